// Every page of the dashboard, in navigation order. Adding a page: write its module
// (export default { route, title, nav, scopes, render }) and list it here.

import evidence from "./evidence.js";
import evidenceItem from "./evidence-item.js";
import plugins from "./plugins.js";
import project from "./project.js";
import projects from "./projects.js";

export const PAGES = [projects, project, evidence, evidenceItem, plugins];
import caseView from "./case.js"; PAGES.push(caseView); // the assurance case view
