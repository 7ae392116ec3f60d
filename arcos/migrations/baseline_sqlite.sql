-- Frozen baseline: the DDL every ARCOS start ran before migrations (main at 4b2f151:
-- Tortoise's get_schema_sql(safe=True) for sqlite). A store made then is adopted with it
-- (arcos/store/adoption.py). Never edit: schema changes are migrations.
CREATE TABLE IF NOT EXISTS "project" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "slug" VARCHAR(255) NOT NULL UNIQUE,
    "created_at" TIMESTAMP NOT NULL
) /* A software project evidence is about, named by a slug like `github.com\/owner\/repo`. */;
CREATE TABLE IF NOT EXISTS "evidence" (
    "seq" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "uid" CHAR(36) NOT NULL UNIQUE,
    "type" VARCHAR(64) NOT NULL,
    "source" VARCHAR(64) NOT NULL,
    "commit_sha" VARCHAR(64),
    "ref" VARCHAR(255),
    "data" JSON NOT NULL,
    "metadata" JSON NOT NULL,
    "data_size" BIGINT NOT NULL,
    "metadata_size" BIGINT NOT NULL,
    "sha256" VARCHAR(64) NOT NULL,
    "submitted_by" VARCHAR(255) NOT NULL,
    "idempotency_key" VARCHAR(255),
    "created_at" TIMESTAMP NOT NULL,
    "project_id" INT REFERENCES "project" ("id") ON DELETE RESTRICT,
    CONSTRAINT "uid_evidence_submitt_56d55b" UNIQUE ("submitted_by", "idempotency_key")
) /* One piece of evidence. `seq` orders rows for keyset pagination; `uid` is public. */;
CREATE INDEX IF NOT EXISTS "idx_evidence_type_c50845" ON "evidence" ("type", "seq");
CREATE INDEX IF NOT EXISTS "idx_evidence_source_a128c6" ON "evidence" ("source", "seq");
CREATE INDEX IF NOT EXISTS "idx_evidence_project_2e9029" ON "evidence" ("project_id", "seq");
CREATE INDEX IF NOT EXISTS "idx_evidence_created_b5a612" ON "evidence" ("created_at");
CREATE TABLE IF NOT EXISTS "evidence_relation" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "relation" VARCHAR(32) NOT NULL /* DERIVED_FROM: derived_from\nSUPERSEDES: supersedes\nRELATES_TO: relates_to */,
    "created_by" VARCHAR(255) NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "from_evidence_id" BIGINT NOT NULL REFERENCES "evidence" ("seq") ON DELETE RESTRICT,
    "to_evidence_id" BIGINT NOT NULL REFERENCES "evidence" ("seq") ON DELETE RESTRICT,
    CONSTRAINT "uid_evidence_re_from_ev_b90a57" UNIQUE ("from_evidence_id", "to_evidence_id", "relation")
) /* A typed, directed link between two evidence items. */;
CREATE TABLE IF NOT EXISTS "principal" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "name" VARCHAR(100) NOT NULL UNIQUE,
    "kind" VARCHAR(16) NOT NULL /* PERSON: person\nCI: ci\nSCM: scm\nPLUGIN: plugin */,
    "created_at" TIMESTAMP NOT NULL
) /* A person, CI job, SCM integration or plugin. Never renamed or deleted: evidence */;
CREATE TABLE IF NOT EXISTS "api_token" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "name" VARCHAR(100) NOT NULL UNIQUE,
    "secret_sha256" VARCHAR(64) NOT NULL UNIQUE,
    "display_prefix" VARCHAR(16) NOT NULL,
    "scopes" JSON NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "expires_at" TIMESTAMP,
    "last_used_at" TIMESTAMP,
    "revoked_at" TIMESTAMP,
    "principal_id" INT NOT NULL REFERENCES "principal" ("id") ON DELETE RESTRICT
) /* A bearer token. Only the SHA-256 of the secret is stored; `display_prefix` is the */;
CREATE TABLE IF NOT EXISTS "webhook_delivery" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "provider" VARCHAR(32) NOT NULL,
    "event" VARCHAR(128) NOT NULL,
    "action" VARCHAR(128),
    "dedupe_key" VARCHAR(255) NOT NULL,
    "received_at" TIMESTAMP NOT NULL,
    "outcome" VARCHAR(16) NOT NULL /* PROCESSED: processed\nIGNORED: ignored\nPING: ping\nFAILED: failed */,
    "detail" TEXT,
    "evidence_ids" JSON NOT NULL,
    "raw_body" TEXT,
    "body_sha256" VARCHAR(64) NOT NULL,
    "reprocessed_at" TIMESTAMP,
    CONSTRAINT "uid_webhook_del_provide_8f635a" UNIQUE ("provider", "dedupe_key")
) /* One delivery. (provider, dedupe_key) is unique: a redelivery finds the first row. */;
CREATE INDEX IF NOT EXISTS "idx_webhook_del_provide_1d0ba6" ON "webhook_delivery" ("provider", "id");
CREATE INDEX IF NOT EXISTS "idx_webhook_del_receive_7efcdb" ON "webhook_delivery" ("received_at");
CREATE TABLE IF NOT EXISTS "webhook_replay_mark" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "provider" VARCHAR(32) NOT NULL,
    "body_sha256" VARCHAR(64) NOT NULL,
    "delivery_id" BIGINT NOT NULL,
    "seen_at" TIMESTAMP NOT NULL,
    CONSTRAINT "uid_webhook_rep_provide_11e14d" UNIQUE ("provider", "body_sha256")
) /* A body a provider delivered within ARCOS_WEBHOOK_REPLAY_WINDOW_SECONDS. */;
CREATE INDEX IF NOT EXISTS "idx_webhook_rep_seen_at_c64f76" ON "webhook_replay_mark" ("seen_at");
CREATE TABLE IF NOT EXISTS "webhook_secret" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "name" VARCHAR(64) NOT NULL UNIQUE,
    "current" TEXT NOT NULL,
    "previous" TEXT,
    "updated_by" VARCHAR(255) NOT NULL,
    "updated_at" TIMESTAMP NOT NULL
) /* A secret set by an admin; it takes precedence over the ARCOS_* setting. */;
CREATE TABLE IF NOT EXISTS "finding" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "tool" VARCHAR(128) NOT NULL,
    "category" VARCHAR(255) NOT NULL,
    "kind" VARCHAR(8) NOT NULL,
    "fingerprint" VARCHAR(128) NOT NULL,
    "rule_id" VARCHAR(255),
    "vulnerability_id" VARCHAR(255),
    "severity" VARCHAR(16) NOT NULL,
    "message" TEXT NOT NULL,
    "path" TEXT,
    "line" INT,
    "component" VARCHAR(255),
    "version" VARCHAR(255),
    "purl" TEXT,
    "state" VARCHAR(8) NOT NULL /* OPEN: open\nFIXED: fixed */,
    "first_seen" TIMESTAMP NOT NULL,
    "last_seen" TIMESTAMP NOT NULL,
    "first_evidence_uid" CHAR(36) NOT NULL,
    "last_evidence_uid" CHAR(36) NOT NULL,
    "project_id" INT REFERENCES "project" ("id") ON DELETE RESTRICT,
    CONSTRAINT "uid_finding_project_12a92b" UNIQUE ("project_id", "tool", "category", "fingerprint")
) /* A SAST or SCA finding of one project, identified across scans by its fingerprint. */;
CREATE INDEX IF NOT EXISTS "idx_finding_project_a83a9b" ON "finding" ("project_id", "state", "id");
CREATE TABLE IF NOT EXISTS "ingestion_job" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "job_id" CHAR(36) NOT NULL UNIQUE,
    "kind" VARCHAR(32) NOT NULL,
    "format" VARCHAR(32),
    "status" VARCHAR(16) NOT NULL /* QUEUED: queued\nSUCCEEDED: succeeded\nFAILED: failed */,
    "error" TEXT,
    "evidence_uid" CHAR(36),
    "project_slug" VARCHAR(255),
    "submitted_by" VARCHAR(255) NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "finished_at" TIMESTAMP
) /* One artifact upload and how it ended; `job_id` is the public handle. */;
CREATE TABLE IF NOT EXISTS "quality_metric" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "name" VARCHAR(64) NOT NULL,
    "value" REAL NOT NULL,
    "timestamp" TIMESTAMP NOT NULL,
    "evidence_uid" CHAR(36) NOT NULL,
    "metadata" JSON NOT NULL,
    "project_id" INT NOT NULL REFERENCES "project" ("id") ON DELETE RESTRICT
) /* One value of one named metric of a project at one time, and the evidence behind it. */;
CREATE INDEX IF NOT EXISTS "idx_quality_met_project_163774" ON "quality_metric" ("project_id", "name", "timestamp");
CREATE TABLE IF NOT EXISTS "sbom_component" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "evidence_uid" CHAR(36) NOT NULL,
    "name" VARCHAR(255) NOT NULL,
    "name_key" VARCHAR(255) NOT NULL,
    "version" VARCHAR(255),
    "purl" TEXT,
    "package" VARCHAR(512),
    "project_id" INT NOT NULL REFERENCES "project" ("id") ON DELETE RESTRICT
) /* One component of one stored SBOM (arcos\/intake\/components.py): which project ships */;
CREATE INDEX IF NOT EXISTS "idx_sbom_compon_package_3334a3" ON "sbom_component" ("package", "project_id");
CREATE INDEX IF NOT EXISTS "idx_sbom_compon_name_ke_c81711" ON "sbom_component" ("name_key", "project_id");
CREATE INDEX IF NOT EXISTS "idx_sbom_compon_evidenc_259f79" ON "sbom_component" ("evidence_uid");
CREATE TABLE IF NOT EXISTS "plugin_execution" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "uid" CHAR(36) NOT NULL UNIQUE,
    "plugin_id" VARCHAR(100) NOT NULL,
    "version" VARCHAR(64) NOT NULL,
    "kind" VARCHAR(16) NOT NULL,
    "status" VARCHAR(24) NOT NULL /* SUCCEEDED: succeeded\nFAILED: failed\nTIMED_OUT: timed_out\nCRASHED: crashed\nOUTPUT_TOO_LARGE: output_too_large\nINVALID_RESULT: invalid_result\nOUTPUT_REFUSED: output_refused\nNOT_RUN: not_run */,
    "trigger" VARCHAR(24) NOT NULL /* CALL: call\nEVIDENCE_ADDED: evidence_added */,
    "duration_ms" REAL NOT NULL,
    "error" TEXT,
    "result" JSON,
    "result_size" BIGINT NOT NULL,
    "evidence_uids" JSON NOT NULL,
    "metric_count" INT NOT NULL,
    "project" VARCHAR(255),
    "caller" VARCHAR(255) NOT NULL,
    "created_at" TIMESTAMP NOT NULL
) /* One run of a plugin version, however it ended. */;
CREATE INDEX IF NOT EXISTS "idx_plugin_exec_plugin__587abc" ON "plugin_execution" ("plugin_id", "id");
CREATE INDEX IF NOT EXISTS "idx_plugin_exec_status_925209" ON "plugin_execution" ("status", "id");
CREATE TABLE IF NOT EXISTS "plugin_panel" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "uid" CHAR(36) NOT NULL UNIQUE,
    "plugin_id" VARCHAR(100) NOT NULL,
    "version" VARCHAR(64) NOT NULL,
    "execution_uid" CHAR(36) NOT NULL,
    "project" VARCHAR(255),
    "panel" JSON NOT NULL,
    "created_at" TIMESTAMP NOT NULL
) /* A visualization plugin's panel, validated against the published panel schema. */;
CREATE INDEX IF NOT EXISTS "idx_plugin_pane_plugin__708ade" ON "plugin_panel" ("plugin_id", "id");
CREATE INDEX IF NOT EXISTS "idx_plugin_pane_project_4a3cfc" ON "plugin_panel" ("project", "id");
CREATE TABLE IF NOT EXISTS "plugin_version" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "plugin_id" VARCHAR(100) NOT NULL,
    "version" VARCHAR(64) NOT NULL,
    "kind" VARCHAR(16) NOT NULL,
    "name" VARCHAR(255) NOT NULL,
    "description" TEXT NOT NULL,
    "author" VARCHAR(255) NOT NULL,
    "tags" JSON NOT NULL,
    "search_text" TEXT NOT NULL,
    "manifest" JSON NOT NULL,
    "code" TEXT NOT NULL,
    "code_sha256" VARCHAR(64) NOT NULL,
    "signature" VARCHAR(128) NOT NULL,
    "key_id" VARCHAR(32) NOT NULL,
    "requested_permissions" JSON NOT NULL,
    "approved_permissions" JSON NOT NULL,
    "state" VARCHAR(24) NOT NULL /* PENDING_APPROVAL: pending_approval\nACTIVE: active\nREVOKED: revoked */,
    "enabled" INT NOT NULL,
    "has_triggers" INT NOT NULL,
    "disabled_reason" TEXT,
    "consecutive_failures" INT NOT NULL,
    "is_latest" INT NOT NULL,
    "registered_by" VARCHAR(255) NOT NULL,
    "approved_by" VARCHAR(255),
    "revoked_by" VARCHAR(255),
    "created_at" TIMESTAMP NOT NULL,
    "approved_at" TIMESTAMP,
    "revoked_at" TIMESTAMP,
    "removed_at" TIMESTAMP,
    CONSTRAINT "uid_plugin_vers_plugin__7418ee" UNIQUE ("plugin_id", "version")
) /* One registered (id, version): what was signed, and its standing. */;
CREATE INDEX IF NOT EXISTS "idx_plugin_vers_is_late_c6e023" ON "plugin_version" ("is_latest", "plugin_id");
CREATE INDEX IF NOT EXISTS "idx_plugin_vers_kind_2635c6" ON "plugin_version" ("kind", "is_latest");
CREATE TABLE IF NOT EXISTS "community_practice" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "uid" CHAR(36) NOT NULL UNIQUE,
    "owner" VARCHAR(255) NOT NULL,
    "visibility" VARCHAR(16) NOT NULL /* PUBLIC: public\nCOMMUNITY: community\nPRIVATE: private */,
    "anonymized" INT NOT NULL,
    "hidden" INT NOT NULL,
    "hidden_reason" TEXT,
    "withdrawn" INT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "title" VARCHAR(200) NOT NULL,
    "category" VARCHAR(32) NOT NULL /* TESTING: testing\nSECURITY: security\nPERFORMANCE: performance\nRELIABILITY: reliability\nMAINTAINABILITY: maintainability\nDOCUMENTATION: documentation\nCOMPLIANCE: compliance\nPROCESS: process */,
    "industry" VARCHAR(64),
    "description" TEXT NOT NULL,
    "steps" JSON NOT NULL,
    "examples" JSON NOT NULL,
    "references" JSON NOT NULL,
    "keywords" TEXT NOT NULL
) /* A practice described in steps, with examples and references. */;
CREATE INDEX IF NOT EXISTS "idx_community_p_owner_c33f89" ON "community_practice" ("owner");
CREATE INDEX IF NOT EXISTS "idx_community_p_categor_70f4bc" ON "community_practice" ("category", "id");
CREATE INDEX IF NOT EXISTS "idx_community_p_industr_db0f2a" ON "community_practice" ("industry", "id");
CREATE TABLE IF NOT EXISTS "community_practice_vote" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "voter" VARCHAR(255) NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "practice_id" BIGINT NOT NULL REFERENCES "community_practice" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_community_p_practic_c9993a" UNIQUE ("practice_id", "voter")
) /* One principal's upvote of one practice; the unique index makes it count once. */;
CREATE TABLE IF NOT EXISTS "community_pattern" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "uid" CHAR(36) NOT NULL UNIQUE,
    "owner" VARCHAR(255) NOT NULL,
    "visibility" VARCHAR(16) NOT NULL /* PUBLIC: public\nCOMMUNITY: community\nPRIVATE: private */,
    "anonymized" INT NOT NULL,
    "hidden" INT NOT NULL,
    "hidden_reason" TEXT,
    "withdrawn" INT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "category" VARCHAR(32) NOT NULL /* TESTING: testing\nSECURITY: security\nPERFORMANCE: performance\nRELIABILITY: reliability\nMAINTAINABILITY: maintainability\nDOCUMENTATION: documentation\nCOMPLIANCE: compliance\nPROCESS: process */,
    "description" TEXT NOT NULL,
    "pattern" JSON NOT NULL,
    "tags" JSON NOT NULL,
    "metrics" JSON NOT NULL,
    "keywords" TEXT NOT NULL,
    "tag_index" TEXT NOT NULL
) /* A reusable way of reaching a quality goal, described as JSON. */;
CREATE INDEX IF NOT EXISTS "idx_community_p_owner_dbd1e6" ON "community_pattern" ("owner");
CREATE INDEX IF NOT EXISTS "idx_community_p_categor_9b20aa" ON "community_pattern" ("category", "id");
CREATE TABLE IF NOT EXISTS "community_pattern_rating" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "rater" VARCHAR(255) NOT NULL,
    "stars" SMALLINT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "pattern_id" BIGINT NOT NULL REFERENCES "community_pattern" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_community_p_pattern_772499" UNIQUE ("pattern_id", "rater")
) /* One principal's stars for one pattern; rating again replaces them. */;
CREATE TABLE IF NOT EXISTS "community_pattern_use" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "project" VARCHAR(255) NOT NULL,
    "adopted_at" TIMESTAMP NOT NULL,
    "recorded_by" VARCHAR(255) NOT NULL,
    "pattern_id" BIGINT NOT NULL REFERENCES "community_pattern" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_community_p_pattern_f0c095" UNIQUE ("pattern_id", "project")
) /* A project that adopted a pattern, and when: effectiveness compares its metrics then */;
CREATE TABLE IF NOT EXISTS "community_stix_import" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "uid" CHAR(36) NOT NULL UNIQUE,
    "owner" VARCHAR(255) NOT NULL,
    "bundle_id" VARCHAR(300) NOT NULL,
    "objects_total" INT NOT NULL,
    "objects_new" INT NOT NULL,
    "created_at" TIMESTAMP NOT NULL
) /* One imported bundle: who sent it and what it added. */;
CREATE TABLE IF NOT EXISTS "community_stix_object" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "uid" CHAR(36) NOT NULL UNIQUE,
    "owner" VARCHAR(255) NOT NULL,
    "visibility" VARCHAR(16) NOT NULL /* PUBLIC: public\nCOMMUNITY: community\nPRIVATE: private */,
    "anonymized" INT NOT NULL,
    "hidden" INT NOT NULL,
    "hidden_reason" TEXT,
    "withdrawn" INT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "stix_id" VARCHAR(300) NOT NULL,
    "stix_type" VARCHAR(250) NOT NULL,
    "modified" VARCHAR(40) NOT NULL,
    "tlp" VARCHAR(16) NOT NULL /* CLEAR: clear\nGREEN: green\nAMBER: amber\nAMBER_STRICT: amber+strict\nRED: red */,
    "source_ref" VARCHAR(300),
    "target_ref" VARCHAR(300),
    "body" JSON NOT NULL,
    "grant" CHAR(36) NOT NULL,
    "import_record_id" BIGINT NOT NULL REFERENCES "community_stix_import" ("id") ON DELETE RESTRICT,
    CONSTRAINT "uid_community_s_owner_6ee4de" UNIQUE ("owner", "stix_id", "modified")
) /* One version of one STIX object, as one principal imported it. (owner, stix_id, */;
CREATE INDEX IF NOT EXISTS "idx_community_s_owner_c2505b" ON "community_stix_object" ("owner");
CREATE INDEX IF NOT EXISTS "idx_community_s_grant_128fd6" ON "community_stix_object" ("grant");
CREATE INDEX IF NOT EXISTS "idx_community_s_stix_id_17277e" ON "community_stix_object" ("stix_id");
CREATE INDEX IF NOT EXISTS "idx_community_s_stix_ty_9218fb" ON "community_stix_object" ("stix_type", "id");
CREATE TABLE IF NOT EXISTS "community_threat" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "uid" CHAR(36) NOT NULL UNIQUE,
    "owner" VARCHAR(255) NOT NULL,
    "visibility" VARCHAR(16) NOT NULL /* PUBLIC: public\nCOMMUNITY: community\nPRIVATE: private */,
    "anonymized" INT NOT NULL,
    "hidden" INT NOT NULL,
    "hidden_reason" TEXT,
    "withdrawn" INT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "title" VARCHAR(200) NOT NULL,
    "kind" VARCHAR(32) NOT NULL /* VULNERABILITY: vulnerability\nMALWARE: malware\nATTACK_PATTERN: attack-pattern\nTHREAT_ACTOR: threat-actor\nCAMPAIGN: campaign\nTOOL: tool */,
    "severity" VARCHAR(16) NOT NULL /* LOW: low\nMEDIUM: medium\nHIGH: high\nCRITICAL: critical */,
    "description" TEXT NOT NULL,
    "indicators" JSON NOT NULL,
    "mitigations" JSON NOT NULL,
    "affected_components" JSON NOT NULL,
    "tlp" VARCHAR(16) NOT NULL /* CLEAR: clear\nGREEN: green\nAMBER: amber\nAMBER_STRICT: amber+strict\nRED: red */,
    "grant" CHAR(36) NOT NULL,
    "stix_id" VARCHAR(300) NOT NULL
) /* A threat shared through shareThreat; its STIX objects are derived from it on export. */;
CREATE INDEX IF NOT EXISTS "idx_community_t_owner_abf50f" ON "community_threat" ("owner");
CREATE INDEX IF NOT EXISTS "idx_community_t_grant_99ff7f" ON "community_threat" ("grant");
CREATE INDEX IF NOT EXISTS "idx_community_t_stix_id_b9d35c" ON "community_threat" ("stix_id");
CREATE TABLE IF NOT EXISTS "community_threat_component" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "key" VARCHAR(512) NOT NULL,
    "threat_id" BIGINT NOT NULL REFERENCES "community_threat" ("id") ON DELETE CASCADE
) /* One affected component of a shared threat, by the key SBOM components are matched */;
CREATE INDEX IF NOT EXISTS "idx_community_t_key_ccee3a" ON "community_threat_component" ("key", "threat_id");
CREATE TABLE IF NOT EXISTS "community_threat_recipient" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "grant" CHAR(36) NOT NULL,
    "principal" VARCHAR(255) NOT NULL,
    CONSTRAINT "uid_community_t_grant_73c03d" UNIQUE ("grant", "principal")
) /* A principal an AMBER or RED threat or import is shared with by name. */;
CREATE INDEX IF NOT EXISTS "idx_community_t_princip_ab7b74" ON "community_threat_recipient" ("principal");
CREATE TABLE IF NOT EXISTS "community_compliance_template" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "uid" CHAR(36) NOT NULL UNIQUE,
    "owner" VARCHAR(255) NOT NULL,
    "visibility" VARCHAR(16) NOT NULL /* PUBLIC: public\nCOMMUNITY: community\nPRIVATE: private */,
    "anonymized" INT NOT NULL,
    "hidden" INT NOT NULL,
    "hidden_reason" TEXT,
    "withdrawn" INT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "key" VARCHAR(64) NOT NULL,
    "name" VARCHAR(255) NOT NULL,
    "version" VARCHAR(255) NOT NULL,
    "description" TEXT NOT NULL,
    "controls" JSON NOT NULL,
    CONSTRAINT "uid_community_c_owner_26a9b0" UNIQUE ("owner", "key")
);
CREATE INDEX IF NOT EXISTS "idx_community_c_owner_4cbf48" ON "community_compliance_template" ("owner");
CREATE TABLE IF NOT EXISTS "community_industry_template" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "uid" CHAR(36) NOT NULL UNIQUE,
    "owner" VARCHAR(255) NOT NULL,
    "visibility" VARCHAR(16) NOT NULL /* PUBLIC: public\nCOMMUNITY: community\nPRIVATE: private */,
    "anonymized" INT NOT NULL,
    "hidden" INT NOT NULL,
    "hidden_reason" TEXT,
    "withdrawn" INT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "key" VARCHAR(64) NOT NULL,
    "name" VARCHAR(255) NOT NULL,
    "description" TEXT NOT NULL,
    "standards" JSON NOT NULL,
    "requirements" JSON NOT NULL,
    "argument" JSON NOT NULL,
    "frameworks" JSON NOT NULL,
    CONSTRAINT "uid_community_i_owner_12d6c7" UNIQUE ("owner", "key")
);
CREATE INDEX IF NOT EXISTS "idx_community_i_owner_9d17b0" ON "community_industry_template" ("owner");
CREATE TABLE IF NOT EXISTS "community_benchmark" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "uid" CHAR(36) NOT NULL UNIQUE,
    "owner" VARCHAR(255) NOT NULL,
    "visibility" VARCHAR(16) NOT NULL /* PUBLIC: public\nCOMMUNITY: community\nPRIVATE: private */,
    "anonymized" INT NOT NULL,
    "hidden" INT NOT NULL,
    "hidden_reason" TEXT,
    "withdrawn" INT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "industry" VARCHAR(64) NOT NULL,
    "project_type" VARCHAR(64) NOT NULL,
    "metrics" JSON NOT NULL
) /* A named set of metric distributions (quantiles, mean, sample size) for an industry */;
CREATE INDEX IF NOT EXISTS "idx_community_b_owner_1454a2" ON "community_benchmark" ("owner");
CREATE INDEX IF NOT EXISTS "idx_community_b_industr_54e171" ON "community_benchmark" ("industry", "project_type", "id");
CREATE TABLE IF NOT EXISTS "community_benchmark_opt_in" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "industry" VARCHAR(64) NOT NULL,
    "project_type" VARCHAR(64) NOT NULL,
    "opted_in_by" VARCHAR(255) NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "project_id" INT NOT NULL REFERENCES "project" ("id") ON DELETE RESTRICT
) /* A project lends its latest quality metrics to the community benchmark of its */;
CREATE INDEX IF NOT EXISTS "idx_community_b_industr_fe08a7" ON "community_benchmark_opt_in" ("industry", "project_type", "updated_at");
CREATE TABLE IF NOT EXISTS "community_benchmark_release" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "industry" VARCHAR(64) NOT NULL,
    "project_type" VARCHAR(64) NOT NULL,
    "released" JSON NOT NULL,
    "history" JSON NOT NULL,
    "checked_at" TIMESTAMP NOT NULL,
    "released_at" TIMESTAMP,
    CONSTRAINT "uid_community_b_industr_bd6b8f" UNIQUE ("industry", "project_type")
) /* The released inputs of one (industry, project type) community benchmark. */;
CREATE TABLE IF NOT EXISTS "assurance_case" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "uid" CHAR(36) NOT NULL UNIQUE,
    "project" VARCHAR(255) NOT NULL,
    "title" VARCHAR(255) NOT NULL,
    "version" INT NOT NULL,
    "created_by" VARCHAR(255) NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL
);
CREATE INDEX IF NOT EXISTS "idx_assurance_c_project_720c92" ON "assurance_case" ("project");
CREATE TABLE IF NOT EXISTS "assurance_case_version" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "number" INT NOT NULL,
    "title" VARCHAR(255) NOT NULL,
    "elements" JSON NOT NULL,
    "wellformedness" VARCHAR(16) NOT NULL,
    "created_by" VARCHAR(255) NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "case_id" INT NOT NULL REFERENCES "assurance_case" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_assurance_c_case_id_5ac7a7" UNIQUE ("case_id", "number")
);
CREATE TABLE IF NOT EXISTS "assurance_snapshot" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "number" INT NOT NULL,
    "hash" VARCHAR(64) NOT NULL UNIQUE,
    "previous" VARCHAR(64),
    "snapshot" JSON NOT NULL,
    "created_by" VARCHAR(255) NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "case_id" INT NOT NULL REFERENCES "assurance_case" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_assurance_s_case_id_efd690" UNIQUE ("case_id", "number")
) /* A release snapshot (arcos\/assurance\/snapshots.py): the signed body as it was taken, */;
CREATE TABLE IF NOT EXISTS "arcos_outbox" (
    "position" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "topic" VARCHAR(128) NOT NULL,
    "key" VARCHAR(64),
    "payload" TEXT NOT NULL,
    "created_at" TIMESTAMP NOT NULL
) /* One published event. AUTOINCREMENT on SQLite: a position is never reused, even after */;
CREATE INDEX IF NOT EXISTS "idx_arcos_outbo_topic_f5f18f" ON "arcos_outbox" ("topic", "key");
