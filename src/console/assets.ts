import analytics from './client/analytics';
import api from './client/api';
import app from './client/app';
import auth from './client/auth';
import charts from './client/charts';
import documents from './client/documents';
import dom from './client/dom';
import run from './client/run';
import service from './client/service';
import sse from './client/sse';
import styles from './client/styles';
import templates from './client/templates';
import timeline from './client/timeline';
import workflow from './client/workflow';
import workflows from './client/workflows';

/*
 * The browser code is kept as text in TypeScript modules so the Worker bundle carries it without
 * a build step or an assets binding: each file below is a plain ES module that the browser loads
 * from /console/<name> and links to the others with relative imports.
 */
type Asset = { type: 'text/javascript' | 'text/css'; body: string };
const js = (body: string): Asset => ({ type: 'text/javascript', body });

export const ASSETS: Record<string, Asset> = {
  'app.js': js(app),
  'api.js': js(api),
  'dom.js': js(dom),
  'sse.js': js(sse),
  'auth.js': js(auth),
  'templates.js': js(templates),
  'workflows.js': js(workflows),
  'workflow.js': js(workflow),
  'run.js': js(run),
  'timeline.js': js(timeline),
  'documents.js': js(documents),
  'charts.js': js(charts),
  'analytics.js': js(analytics),
  'service.js': js(service),
  'app.css': { type: 'text/css', body: styles },
};

export const CONSOLE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Console — Document Workflow Chain</title>
<link rel="stylesheet" href="/console/app.css">
<script type="module" src="/console/app.js"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <a class="brand" href="#/workflows">Document Workflow Chain</a>
  <nav id="nav" aria-label="Main" hidden>
    <a href="#/workflows">Workflows</a>
    <a href="#/documents">Documents</a>
    <a href="#/analytics">Analytics</a>
    <span id="who" class="who"></span>
    <button id="sign-out" type="button" class="quiet">Sign out</button>
  </nav>
</header>
<main id="main" tabindex="-1"><p>Loading the console…</p></main>
<p id="toast" class="toast" role="status" aria-live="polite"></p>
<noscript><p>The console needs JavaScript. The API itself is documented at <a href="/docs">/docs</a>.</p></noscript>
</body>
</html>
`;
