-- Frozen baseline: the DDL every ARCOS start ran before migrations (main at 4b2f151:
-- Tortoise's get_schema_sql(safe=True) for postgres). A store made then is adopted with it
-- (arcos/store/adoption.py). Never edit: schema changes are migrations.
CREATE TABLE IF NOT EXISTS "project" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "slug" VARCHAR(255) NOT NULL UNIQUE,
    "created_at" TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE "project" IS 'A software project evidence is about, named by a slug like `github.com/owner/repo`.';
CREATE TABLE IF NOT EXISTS "evidence" (
    "seq" BIGSERIAL NOT NULL PRIMARY KEY,
    "uid" UUID NOT NULL UNIQUE,
    "type" VARCHAR(64) NOT NULL,
    "source" VARCHAR(64) NOT NULL,
    "commit_sha" VARCHAR(64),
    "ref" VARCHAR(255),
    "data" JSONB NOT NULL,
    "metadata" JSONB NOT NULL,
    "data_size" BIGINT NOT NULL,
    "metadata_size" BIGINT NOT NULL,
    "sha256" VARCHAR(64) NOT NULL,
    "submitted_by" VARCHAR(255) NOT NULL,
    "idempotency_key" VARCHAR(255),
    "created_at" TIMESTAMPTZ NOT NULL,
    "project_id" INT REFERENCES "project" ("id") ON DELETE RESTRICT,
    CONSTRAINT "uid_evidence_submitt_56d55b" UNIQUE ("submitted_by", "idempotency_key")
);
CREATE INDEX IF NOT EXISTS "idx_evidence_type_c50845" ON "evidence" ("type", "seq");
CREATE INDEX IF NOT EXISTS "idx_evidence_source_a128c6" ON "evidence" ("source", "seq");
CREATE INDEX IF NOT EXISTS "idx_evidence_project_2e9029" ON "evidence" ("project_id", "seq");
CREATE INDEX IF NOT EXISTS "idx_evidence_created_b5a612" ON "evidence" ("created_at");
COMMENT ON TABLE "evidence" IS 'One piece of evidence. `seq` orders rows for keyset pagination; `uid` is public.';
CREATE TABLE IF NOT EXISTS "evidence_relation" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "relation" VARCHAR(32) NOT NULL,
    "created_by" VARCHAR(255) NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "from_evidence_id" BIGINT NOT NULL REFERENCES "evidence" ("seq") ON DELETE RESTRICT,
    "to_evidence_id" BIGINT NOT NULL REFERENCES "evidence" ("seq") ON DELETE RESTRICT,
    CONSTRAINT "uid_evidence_re_from_ev_b90a57" UNIQUE ("from_evidence_id", "to_evidence_id", "relation")
);
COMMENT ON COLUMN "evidence_relation"."relation" IS 'DERIVED_FROM: derived_from\nSUPERSEDES: supersedes\nRELATES_TO: relates_to';
COMMENT ON TABLE "evidence_relation" IS 'A typed, directed link between two evidence items.';
CREATE TABLE IF NOT EXISTS "principal" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "name" VARCHAR(100) NOT NULL UNIQUE,
    "kind" VARCHAR(16) NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL
);
COMMENT ON COLUMN "principal"."kind" IS 'PERSON: person\nCI: ci\nSCM: scm\nPLUGIN: plugin';
COMMENT ON TABLE "principal" IS 'A person, CI job, SCM integration or plugin. Never renamed or deleted: evidence';
CREATE TABLE IF NOT EXISTS "api_token" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "name" VARCHAR(100) NOT NULL UNIQUE,
    "secret_sha256" VARCHAR(64) NOT NULL UNIQUE,
    "display_prefix" VARCHAR(16) NOT NULL,
    "scopes" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "expires_at" TIMESTAMPTZ,
    "last_used_at" TIMESTAMPTZ,
    "revoked_at" TIMESTAMPTZ,
    "principal_id" INT NOT NULL REFERENCES "principal" ("id") ON DELETE RESTRICT
);
COMMENT ON TABLE "api_token" IS 'A bearer token. Only the SHA-256 of the secret is stored; `display_prefix` is the';
CREATE TABLE IF NOT EXISTS "webhook_delivery" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "provider" VARCHAR(32) NOT NULL,
    "event" VARCHAR(128) NOT NULL,
    "action" VARCHAR(128),
    "dedupe_key" VARCHAR(255) NOT NULL,
    "received_at" TIMESTAMPTZ NOT NULL,
    "outcome" VARCHAR(16) NOT NULL,
    "detail" TEXT,
    "evidence_ids" JSONB NOT NULL,
    "raw_body" TEXT,
    "body_sha256" VARCHAR(64) NOT NULL,
    "reprocessed_at" TIMESTAMPTZ,
    CONSTRAINT "uid_webhook_del_provide_8f635a" UNIQUE ("provider", "dedupe_key")
);
CREATE INDEX IF NOT EXISTS "idx_webhook_del_provide_1d0ba6" ON "webhook_delivery" ("provider", "id");
CREATE INDEX IF NOT EXISTS "idx_webhook_del_receive_7efcdb" ON "webhook_delivery" ("received_at");
COMMENT ON COLUMN "webhook_delivery"."outcome" IS 'PROCESSED: processed\nIGNORED: ignored\nPING: ping\nFAILED: failed';
COMMENT ON TABLE "webhook_delivery" IS 'One delivery. (provider, dedupe_key) is unique: a redelivery finds the first row.';
CREATE TABLE IF NOT EXISTS "webhook_replay_mark" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "provider" VARCHAR(32) NOT NULL,
    "body_sha256" VARCHAR(64) NOT NULL,
    "delivery_id" BIGINT NOT NULL,
    "seen_at" TIMESTAMPTZ NOT NULL,
    CONSTRAINT "uid_webhook_rep_provide_11e14d" UNIQUE ("provider", "body_sha256")
);
CREATE INDEX IF NOT EXISTS "idx_webhook_rep_seen_at_c64f76" ON "webhook_replay_mark" ("seen_at");
COMMENT ON TABLE "webhook_replay_mark" IS 'A body a provider delivered within ARCOS_WEBHOOK_REPLAY_WINDOW_SECONDS.';
CREATE TABLE IF NOT EXISTS "webhook_secret" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "name" VARCHAR(64) NOT NULL UNIQUE,
    "current" TEXT NOT NULL,
    "previous" TEXT,
    "updated_by" VARCHAR(255) NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE "webhook_secret" IS 'A secret set by an admin; it takes precedence over the ARCOS_* setting.';
CREATE TABLE IF NOT EXISTS "finding" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
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
    "state" VARCHAR(8) NOT NULL,
    "first_seen" TIMESTAMPTZ NOT NULL,
    "last_seen" TIMESTAMPTZ NOT NULL,
    "first_evidence_uid" UUID NOT NULL,
    "last_evidence_uid" UUID NOT NULL,
    "project_id" INT REFERENCES "project" ("id") ON DELETE RESTRICT,
    CONSTRAINT "uid_finding_project_12a92b" UNIQUE ("project_id", "tool", "category", "fingerprint")
);
CREATE INDEX IF NOT EXISTS "idx_finding_project_a83a9b" ON "finding" ("project_id", "state", "id");
COMMENT ON COLUMN "finding"."state" IS 'OPEN: open\nFIXED: fixed';
COMMENT ON TABLE "finding" IS 'A SAST or SCA finding of one project, identified across scans by its fingerprint.';
CREATE TABLE IF NOT EXISTS "ingestion_job" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "job_id" UUID NOT NULL UNIQUE,
    "kind" VARCHAR(32) NOT NULL,
    "format" VARCHAR(32),
    "status" VARCHAR(16) NOT NULL,
    "error" TEXT,
    "evidence_uid" UUID,
    "project_slug" VARCHAR(255),
    "submitted_by" VARCHAR(255) NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "finished_at" TIMESTAMPTZ
);
COMMENT ON COLUMN "ingestion_job"."status" IS 'QUEUED: queued\nSUCCEEDED: succeeded\nFAILED: failed';
COMMENT ON TABLE "ingestion_job" IS 'One artifact upload and how it ended; `job_id` is the public handle.';
CREATE TABLE IF NOT EXISTS "quality_metric" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "name" VARCHAR(64) NOT NULL,
    "value" DOUBLE PRECISION NOT NULL,
    "timestamp" TIMESTAMPTZ NOT NULL,
    "evidence_uid" UUID NOT NULL,
    "metadata" JSONB NOT NULL,
    "project_id" INT NOT NULL REFERENCES "project" ("id") ON DELETE RESTRICT
);
CREATE INDEX IF NOT EXISTS "idx_quality_met_project_163774" ON "quality_metric" ("project_id", "name", "timestamp");
COMMENT ON TABLE "quality_metric" IS 'One value of one named metric of a project at one time, and the evidence behind it.';
CREATE TABLE IF NOT EXISTS "sbom_component" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "evidence_uid" UUID NOT NULL,
    "name" VARCHAR(255) NOT NULL,
    "name_key" VARCHAR(255) NOT NULL,
    "version" VARCHAR(255),
    "purl" TEXT,
    "package" VARCHAR(512),
    "project_id" INT NOT NULL REFERENCES "project" ("id") ON DELETE RESTRICT
);
CREATE INDEX IF NOT EXISTS "idx_sbom_compon_package_3334a3" ON "sbom_component" ("package", "project_id");
CREATE INDEX IF NOT EXISTS "idx_sbom_compon_name_ke_c81711" ON "sbom_component" ("name_key", "project_id");
CREATE INDEX IF NOT EXISTS "idx_sbom_compon_evidenc_259f79" ON "sbom_component" ("evidence_uid");
COMMENT ON TABLE "sbom_component" IS 'One component of one stored SBOM (arcos/intake/components.py): which project ships';
CREATE TABLE IF NOT EXISTS "plugin_execution" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "uid" UUID NOT NULL UNIQUE,
    "plugin_id" VARCHAR(100) NOT NULL,
    "version" VARCHAR(64) NOT NULL,
    "kind" VARCHAR(16) NOT NULL,
    "status" VARCHAR(24) NOT NULL,
    "trigger" VARCHAR(24) NOT NULL,
    "duration_ms" DOUBLE PRECISION NOT NULL,
    "error" TEXT,
    "result" JSONB,
    "result_size" BIGINT NOT NULL,
    "evidence_uids" JSONB NOT NULL,
    "metric_count" INT NOT NULL,
    "project" VARCHAR(255),
    "caller" VARCHAR(255) NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS "idx_plugin_exec_plugin__587abc" ON "plugin_execution" ("plugin_id", "id");
CREATE INDEX IF NOT EXISTS "idx_plugin_exec_status_925209" ON "plugin_execution" ("status", "id");
COMMENT ON COLUMN "plugin_execution"."status" IS 'SUCCEEDED: succeeded\nFAILED: failed\nTIMED_OUT: timed_out\nCRASHED: crashed\nOUTPUT_TOO_LARGE: output_too_large\nINVALID_RESULT: invalid_result\nOUTPUT_REFUSED: output_refused\nNOT_RUN: not_run';
COMMENT ON COLUMN "plugin_execution"."trigger" IS 'CALL: call\nEVIDENCE_ADDED: evidence_added';
COMMENT ON TABLE "plugin_execution" IS 'One run of a plugin version, however it ended.';
CREATE TABLE IF NOT EXISTS "plugin_panel" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "uid" UUID NOT NULL UNIQUE,
    "plugin_id" VARCHAR(100) NOT NULL,
    "version" VARCHAR(64) NOT NULL,
    "execution_uid" UUID NOT NULL,
    "project" VARCHAR(255),
    "panel" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS "idx_plugin_pane_plugin__708ade" ON "plugin_panel" ("plugin_id", "id");
CREATE INDEX IF NOT EXISTS "idx_plugin_pane_project_4a3cfc" ON "plugin_panel" ("project", "id");
COMMENT ON TABLE "plugin_panel" IS 'A visualization plugin''s panel, validated against the published panel schema.';
CREATE TABLE IF NOT EXISTS "plugin_version" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "plugin_id" VARCHAR(100) NOT NULL,
    "version" VARCHAR(64) NOT NULL,
    "kind" VARCHAR(16) NOT NULL,
    "name" VARCHAR(255) NOT NULL,
    "description" TEXT NOT NULL,
    "author" VARCHAR(255) NOT NULL,
    "tags" JSONB NOT NULL,
    "search_text" TEXT NOT NULL,
    "manifest" JSONB NOT NULL,
    "code" TEXT NOT NULL,
    "code_sha256" VARCHAR(64) NOT NULL,
    "signature" VARCHAR(128) NOT NULL,
    "key_id" VARCHAR(32) NOT NULL,
    "requested_permissions" JSONB NOT NULL,
    "approved_permissions" JSONB NOT NULL,
    "state" VARCHAR(24) NOT NULL,
    "enabled" BOOL NOT NULL,
    "has_triggers" BOOL NOT NULL,
    "disabled_reason" TEXT,
    "consecutive_failures" INT NOT NULL,
    "is_latest" BOOL NOT NULL,
    "registered_by" VARCHAR(255) NOT NULL,
    "approved_by" VARCHAR(255),
    "revoked_by" VARCHAR(255),
    "created_at" TIMESTAMPTZ NOT NULL,
    "approved_at" TIMESTAMPTZ,
    "revoked_at" TIMESTAMPTZ,
    "removed_at" TIMESTAMPTZ,
    CONSTRAINT "uid_plugin_vers_plugin__7418ee" UNIQUE ("plugin_id", "version")
);
CREATE INDEX IF NOT EXISTS "idx_plugin_vers_is_late_c6e023" ON "plugin_version" ("is_latest", "plugin_id");
CREATE INDEX IF NOT EXISTS "idx_plugin_vers_kind_2635c6" ON "plugin_version" ("kind", "is_latest");
COMMENT ON COLUMN "plugin_version"."state" IS 'PENDING_APPROVAL: pending_approval\nACTIVE: active\nREVOKED: revoked';
COMMENT ON TABLE "plugin_version" IS 'One registered (id, version): what was signed, and its standing.';
CREATE TABLE IF NOT EXISTS "community_practice" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "uid" UUID NOT NULL UNIQUE,
    "owner" VARCHAR(255) NOT NULL,
    "visibility" VARCHAR(16) NOT NULL,
    "anonymized" BOOL NOT NULL,
    "hidden" BOOL NOT NULL,
    "hidden_reason" TEXT,
    "withdrawn" BOOL NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "title" VARCHAR(200) NOT NULL,
    "category" VARCHAR(32) NOT NULL,
    "industry" VARCHAR(64),
    "description" TEXT NOT NULL,
    "steps" JSONB NOT NULL,
    "examples" JSONB NOT NULL,
    "references" JSONB NOT NULL,
    "keywords" TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS "idx_community_p_owner_c33f89" ON "community_practice" ("owner");
CREATE INDEX IF NOT EXISTS "idx_community_p_categor_70f4bc" ON "community_practice" ("category", "id");
CREATE INDEX IF NOT EXISTS "idx_community_p_industr_db0f2a" ON "community_practice" ("industry", "id");
COMMENT ON COLUMN "community_practice"."visibility" IS 'PUBLIC: public\nCOMMUNITY: community\nPRIVATE: private';
COMMENT ON COLUMN "community_practice"."category" IS 'TESTING: testing\nSECURITY: security\nPERFORMANCE: performance\nRELIABILITY: reliability\nMAINTAINABILITY: maintainability\nDOCUMENTATION: documentation\nCOMPLIANCE: compliance\nPROCESS: process';
COMMENT ON TABLE "community_practice" IS 'A practice described in steps, with examples and references.';
CREATE TABLE IF NOT EXISTS "community_practice_vote" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "voter" VARCHAR(255) NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "practice_id" BIGINT NOT NULL REFERENCES "community_practice" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_community_p_practic_c9993a" UNIQUE ("practice_id", "voter")
);
COMMENT ON TABLE "community_practice_vote" IS 'One principal''s upvote of one practice; the unique index makes it count once.';
CREATE TABLE IF NOT EXISTS "community_pattern" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "uid" UUID NOT NULL UNIQUE,
    "owner" VARCHAR(255) NOT NULL,
    "visibility" VARCHAR(16) NOT NULL,
    "anonymized" BOOL NOT NULL,
    "hidden" BOOL NOT NULL,
    "hidden_reason" TEXT,
    "withdrawn" BOOL NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "category" VARCHAR(32) NOT NULL,
    "description" TEXT NOT NULL,
    "pattern" JSONB NOT NULL,
    "tags" JSONB NOT NULL,
    "metrics" JSONB NOT NULL,
    "keywords" TEXT NOT NULL,
    "tag_index" TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS "idx_community_p_owner_dbd1e6" ON "community_pattern" ("owner");
CREATE INDEX IF NOT EXISTS "idx_community_p_categor_9b20aa" ON "community_pattern" ("category", "id");
COMMENT ON COLUMN "community_pattern"."visibility" IS 'PUBLIC: public\nCOMMUNITY: community\nPRIVATE: private';
COMMENT ON COLUMN "community_pattern"."category" IS 'TESTING: testing\nSECURITY: security\nPERFORMANCE: performance\nRELIABILITY: reliability\nMAINTAINABILITY: maintainability\nDOCUMENTATION: documentation\nCOMPLIANCE: compliance\nPROCESS: process';
COMMENT ON TABLE "community_pattern" IS 'A reusable way of reaching a quality goal, described as JSON.';
CREATE TABLE IF NOT EXISTS "community_pattern_rating" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "rater" VARCHAR(255) NOT NULL,
    "stars" SMALLINT NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "pattern_id" BIGINT NOT NULL REFERENCES "community_pattern" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_community_p_pattern_772499" UNIQUE ("pattern_id", "rater")
);
COMMENT ON TABLE "community_pattern_rating" IS 'One principal''s stars for one pattern; rating again replaces them.';
CREATE TABLE IF NOT EXISTS "community_pattern_use" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "project" VARCHAR(255) NOT NULL,
    "adopted_at" TIMESTAMPTZ NOT NULL,
    "recorded_by" VARCHAR(255) NOT NULL,
    "pattern_id" BIGINT NOT NULL REFERENCES "community_pattern" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_community_p_pattern_f0c095" UNIQUE ("pattern_id", "project")
);
COMMENT ON TABLE "community_pattern_use" IS 'A project that adopted a pattern, and when: effectiveness compares its metrics then';
CREATE TABLE IF NOT EXISTS "community_stix_import" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "uid" UUID NOT NULL UNIQUE,
    "owner" VARCHAR(255) NOT NULL,
    "bundle_id" VARCHAR(300) NOT NULL,
    "objects_total" INT NOT NULL,
    "objects_new" INT NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE "community_stix_import" IS 'One imported bundle: who sent it and what it added.';
CREATE TABLE IF NOT EXISTS "community_stix_object" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "uid" UUID NOT NULL UNIQUE,
    "owner" VARCHAR(255) NOT NULL,
    "visibility" VARCHAR(16) NOT NULL,
    "anonymized" BOOL NOT NULL,
    "hidden" BOOL NOT NULL,
    "hidden_reason" TEXT,
    "withdrawn" BOOL NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "stix_id" VARCHAR(300) NOT NULL,
    "stix_type" VARCHAR(250) NOT NULL,
    "modified" VARCHAR(40) NOT NULL,
    "tlp" VARCHAR(16) NOT NULL,
    "source_ref" VARCHAR(300),
    "target_ref" VARCHAR(300),
    "body" JSONB NOT NULL,
    "grant" UUID NOT NULL,
    "import_record_id" BIGINT NOT NULL REFERENCES "community_stix_import" ("id") ON DELETE RESTRICT,
    CONSTRAINT "uid_community_s_owner_6ee4de" UNIQUE ("owner", "stix_id", "modified")
);
CREATE INDEX IF NOT EXISTS "idx_community_s_owner_c2505b" ON "community_stix_object" ("owner");
CREATE INDEX IF NOT EXISTS "idx_community_s_grant_128fd6" ON "community_stix_object" ("grant");
CREATE INDEX IF NOT EXISTS "idx_community_s_stix_id_17277e" ON "community_stix_object" ("stix_id");
CREATE INDEX IF NOT EXISTS "idx_community_s_stix_ty_9218fb" ON "community_stix_object" ("stix_type", "id");
COMMENT ON COLUMN "community_stix_object"."visibility" IS 'PUBLIC: public\nCOMMUNITY: community\nPRIVATE: private';
COMMENT ON COLUMN "community_stix_object"."tlp" IS 'CLEAR: clear\nGREEN: green\nAMBER: amber\nAMBER_STRICT: amber+strict\nRED: red';
COMMENT ON TABLE "community_stix_object" IS 'One version of one STIX object, as one principal imported it. (owner, stix_id,';
CREATE TABLE IF NOT EXISTS "community_threat" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "uid" UUID NOT NULL UNIQUE,
    "owner" VARCHAR(255) NOT NULL,
    "visibility" VARCHAR(16) NOT NULL,
    "anonymized" BOOL NOT NULL,
    "hidden" BOOL NOT NULL,
    "hidden_reason" TEXT,
    "withdrawn" BOOL NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "title" VARCHAR(200) NOT NULL,
    "kind" VARCHAR(32) NOT NULL,
    "severity" VARCHAR(16) NOT NULL,
    "description" TEXT NOT NULL,
    "indicators" JSONB NOT NULL,
    "mitigations" JSONB NOT NULL,
    "affected_components" JSONB NOT NULL,
    "tlp" VARCHAR(16) NOT NULL,
    "grant" UUID NOT NULL,
    "stix_id" VARCHAR(300) NOT NULL
);
CREATE INDEX IF NOT EXISTS "idx_community_t_owner_abf50f" ON "community_threat" ("owner");
CREATE INDEX IF NOT EXISTS "idx_community_t_grant_99ff7f" ON "community_threat" ("grant");
CREATE INDEX IF NOT EXISTS "idx_community_t_stix_id_b9d35c" ON "community_threat" ("stix_id");
COMMENT ON COLUMN "community_threat"."visibility" IS 'PUBLIC: public\nCOMMUNITY: community\nPRIVATE: private';
COMMENT ON COLUMN "community_threat"."kind" IS 'VULNERABILITY: vulnerability\nMALWARE: malware\nATTACK_PATTERN: attack-pattern\nTHREAT_ACTOR: threat-actor\nCAMPAIGN: campaign\nTOOL: tool';
COMMENT ON COLUMN "community_threat"."severity" IS 'LOW: low\nMEDIUM: medium\nHIGH: high\nCRITICAL: critical';
COMMENT ON COLUMN "community_threat"."tlp" IS 'CLEAR: clear\nGREEN: green\nAMBER: amber\nAMBER_STRICT: amber+strict\nRED: red';
COMMENT ON TABLE "community_threat" IS 'A threat shared through shareThreat; its STIX objects are derived from it on export.';
CREATE TABLE IF NOT EXISTS "community_threat_component" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "key" VARCHAR(512) NOT NULL,
    "threat_id" BIGINT NOT NULL REFERENCES "community_threat" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "idx_community_t_key_ccee3a" ON "community_threat_component" ("key", "threat_id");
COMMENT ON TABLE "community_threat_component" IS 'One affected component of a shared threat, by the key SBOM components are matched';
CREATE TABLE IF NOT EXISTS "community_threat_recipient" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "grant" UUID NOT NULL,
    "principal" VARCHAR(255) NOT NULL,
    CONSTRAINT "uid_community_t_grant_73c03d" UNIQUE ("grant", "principal")
);
CREATE INDEX IF NOT EXISTS "idx_community_t_princip_ab7b74" ON "community_threat_recipient" ("principal");
COMMENT ON TABLE "community_threat_recipient" IS 'A principal an AMBER or RED threat or import is shared with by name.';
CREATE TABLE IF NOT EXISTS "community_compliance_template" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "uid" UUID NOT NULL UNIQUE,
    "owner" VARCHAR(255) NOT NULL,
    "visibility" VARCHAR(16) NOT NULL,
    "anonymized" BOOL NOT NULL,
    "hidden" BOOL NOT NULL,
    "hidden_reason" TEXT,
    "withdrawn" BOOL NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "key" VARCHAR(64) NOT NULL,
    "name" VARCHAR(255) NOT NULL,
    "version" VARCHAR(255) NOT NULL,
    "description" TEXT NOT NULL,
    "controls" JSONB NOT NULL,
    CONSTRAINT "uid_community_c_owner_26a9b0" UNIQUE ("owner", "key")
);
CREATE INDEX IF NOT EXISTS "idx_community_c_owner_4cbf48" ON "community_compliance_template" ("owner");
COMMENT ON COLUMN "community_compliance_template"."visibility" IS 'PUBLIC: public\nCOMMUNITY: community\nPRIVATE: private';
CREATE TABLE IF NOT EXISTS "community_industry_template" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "uid" UUID NOT NULL UNIQUE,
    "owner" VARCHAR(255) NOT NULL,
    "visibility" VARCHAR(16) NOT NULL,
    "anonymized" BOOL NOT NULL,
    "hidden" BOOL NOT NULL,
    "hidden_reason" TEXT,
    "withdrawn" BOOL NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "key" VARCHAR(64) NOT NULL,
    "name" VARCHAR(255) NOT NULL,
    "description" TEXT NOT NULL,
    "standards" JSONB NOT NULL,
    "requirements" JSONB NOT NULL,
    "argument" JSONB NOT NULL,
    "frameworks" JSONB NOT NULL,
    CONSTRAINT "uid_community_i_owner_12d6c7" UNIQUE ("owner", "key")
);
CREATE INDEX IF NOT EXISTS "idx_community_i_owner_9d17b0" ON "community_industry_template" ("owner");
COMMENT ON COLUMN "community_industry_template"."visibility" IS 'PUBLIC: public\nCOMMUNITY: community\nPRIVATE: private';
CREATE TABLE IF NOT EXISTS "community_benchmark" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "uid" UUID NOT NULL UNIQUE,
    "owner" VARCHAR(255) NOT NULL,
    "visibility" VARCHAR(16) NOT NULL,
    "anonymized" BOOL NOT NULL,
    "hidden" BOOL NOT NULL,
    "hidden_reason" TEXT,
    "withdrawn" BOOL NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "industry" VARCHAR(64) NOT NULL,
    "project_type" VARCHAR(64) NOT NULL,
    "metrics" JSONB NOT NULL
);
CREATE INDEX IF NOT EXISTS "idx_community_b_owner_1454a2" ON "community_benchmark" ("owner");
CREATE INDEX IF NOT EXISTS "idx_community_b_industr_54e171" ON "community_benchmark" ("industry", "project_type", "id");
COMMENT ON COLUMN "community_benchmark"."visibility" IS 'PUBLIC: public\nCOMMUNITY: community\nPRIVATE: private';
COMMENT ON TABLE "community_benchmark" IS 'A named set of metric distributions (quantiles, mean, sample size) for an industry';
CREATE TABLE IF NOT EXISTS "community_benchmark_opt_in" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "industry" VARCHAR(64) NOT NULL,
    "project_type" VARCHAR(64) NOT NULL,
    "opted_in_by" VARCHAR(255) NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "project_id" INT NOT NULL REFERENCES "project" ("id") ON DELETE RESTRICT
);
CREATE INDEX IF NOT EXISTS "idx_community_b_industr_fe08a7" ON "community_benchmark_opt_in" ("industry", "project_type", "updated_at");
COMMENT ON TABLE "community_benchmark_opt_in" IS 'A project lends its latest quality metrics to the community benchmark of its';
CREATE TABLE IF NOT EXISTS "community_benchmark_release" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "industry" VARCHAR(64) NOT NULL,
    "project_type" VARCHAR(64) NOT NULL,
    "released" JSONB NOT NULL,
    "history" JSONB NOT NULL,
    "checked_at" TIMESTAMPTZ NOT NULL,
    "released_at" TIMESTAMPTZ,
    CONSTRAINT "uid_community_b_industr_bd6b8f" UNIQUE ("industry", "project_type")
);
COMMENT ON TABLE "community_benchmark_release" IS 'The released inputs of one (industry, project type) community benchmark.';
CREATE TABLE IF NOT EXISTS "assurance_case" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "uid" UUID NOT NULL UNIQUE,
    "project" VARCHAR(255) NOT NULL,
    "title" VARCHAR(255) NOT NULL,
    "version" INT NOT NULL,
    "created_by" VARCHAR(255) NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS "idx_assurance_c_project_720c92" ON "assurance_case" ("project");
CREATE TABLE IF NOT EXISTS "assurance_case_version" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "number" INT NOT NULL,
    "title" VARCHAR(255) NOT NULL,
    "elements" JSONB NOT NULL,
    "wellformedness" VARCHAR(16) NOT NULL,
    "created_by" VARCHAR(255) NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "case_id" INT NOT NULL REFERENCES "assurance_case" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_assurance_c_case_id_5ac7a7" UNIQUE ("case_id", "number")
);
CREATE TABLE IF NOT EXISTS "assurance_snapshot" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "number" INT NOT NULL,
    "hash" VARCHAR(64) NOT NULL UNIQUE,
    "previous" VARCHAR(64),
    "snapshot" JSONB NOT NULL,
    "created_by" VARCHAR(255) NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "case_id" INT NOT NULL REFERENCES "assurance_case" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_assurance_s_case_id_efd690" UNIQUE ("case_id", "number")
);
COMMENT ON TABLE "assurance_snapshot" IS 'A release snapshot (arcos/assurance/snapshots.py): the signed body as it was taken,';
CREATE TABLE IF NOT EXISTS "arcos_outbox" (
    "position" BIGSERIAL NOT NULL PRIMARY KEY,
    "topic" VARCHAR(128) NOT NULL,
    "key" VARCHAR(64),
    "payload" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS "idx_arcos_outbo_topic_f5f18f" ON "arcos_outbox" ("topic", "key");
COMMENT ON TABLE "arcos_outbox" IS 'One published event. AUTOINCREMENT on SQLite: a position is never reused, even after';
