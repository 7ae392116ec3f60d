// Every page of the dashboard, in navigation order. Adding a page: write its module
// (export default { route, title, nav, scopes, render }) and list it here.

import caseView from "./case.js";
import community from "./community.js";
import evidence from "./evidence.js";
import evidenceItem from "./evidence-item.js";
import operators from "./operators.js";
import plugins from "./plugins.js";
import project from "./project.js";
import projects from "./projects.js";

export const PAGES = [
  projects, project, evidence, evidenceItem, plugins, community, operators, caseView,
];
