/** The console page: a static shell filled in by /console/app.js (no inline script or style, for the CSP). */
export const CONSOLE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>aaos console</title>
<link rel="stylesheet" href="/console/app.css">
<script type="module" src="/console/app.js"></script>
</head>
<body>
<header>
  <h1>aaos</h1>
  <span id="health" class="muted">connecting…</span>
  <span id="live" class="badge">offline</span>
</header>
<main>
  <section id="submit-section">
    <h2>Submit a goal</h2>
    <form id="submit-form">
      <textarea id="goal" name="goal" rows="2" placeholder="What should the agents do?" required></textarea>
      <button type="submit" id="submit-button">Submit</button>
    </form>
    <p id="submit-result" class="muted"></p>
  </section>
  <section id="approvals-section">
    <h2>Pending approvals <span id="approvals-count" class="badge">0</span></h2>
    <ul id="approvals" class="list"></ul>
  </section>
  <section id="agents-section">
    <h2>Agents</h2>
    <ul id="agents" class="tree"></ul>
    <div id="capabilities"></div>
  </section>
  <section id="runs-section">
    <h2>Runs</h2>
    <ul id="runs" class="list"></ul>
  </section>
  <section id="timeline-section">
    <h2>Timeline <span id="timeline-run" class="muted"></span></h2>
    <p id="timeline-summary" class="muted"></p>
    <ol id="timeline"></ol>
  </section>
</main>
</body>
</html>
`;

export const CONSOLE_CSS = `
:root { --bg:#0f1218; --panel:#171b23; --fg:#e6e9ef; --muted:#8a93a6; --accent:#6ea8fe; --ok:#4cc38a; --bad:#f2555a; --warn:#f5a524; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui, sans-serif; background:var(--bg); color:var(--fg); }
header { display:flex; gap:1rem; align-items:center; padding:.6rem 1rem; border-bottom:1px solid #262c38; }
header h1 { font-size:1.1rem; margin:0; }
main { display:grid; grid-template-columns: minmax(320px, 1fr) minmax(420px, 1.4fr); gap:1rem; padding:1rem; }
section { background:var(--panel); border-radius:8px; padding:.8rem 1rem; min-width:0; }
#timeline-section, #submit-section { grid-column: 1 / -1; }
h2 { font-size:.95rem; margin:.1rem 0 .6rem; color:var(--accent); }
.muted { color:var(--muted); }
.badge { display:inline-block; padding:0 .5em; border-radius:1em; background:#262c38; font-size:.8rem; }
.state-running, .state-completed, .live { background:#163b2a; color:var(--ok); }
.state-failed, .state-cancelled, .state-interrupted { background:#3d1a1c; color:var(--bad); }
.state-queued, .state-parked, .state-paused { background:#3a2d12; color:var(--warn); }
ul.list, ul.tree, ol { list-style:none; margin:0; padding:0; }
ul.tree ul { list-style:none; padding-left:1.2rem; border-left:1px dashed #333b4a; margin-left:.4rem; }
li { padding:.2rem 0; }
button { background:#263247; color:var(--fg); border:1px solid #35445f; border-radius:5px; padding:.2rem .7rem; cursor:pointer; }
button:hover { border-color:var(--accent); }
button.danger { border-color:#6b2a2d; }
textarea, input { background:#0f1218; color:var(--fg); border:1px solid #35445f; border-radius:5px; padding:.3rem; font:inherit; }
#submit-form { display:flex; gap:.5rem; }
#submit-form textarea { flex:1; }
.agent { cursor:pointer; }
.agent .name { font-weight:600; }
.run { cursor:pointer; }
.run.selected, .agent.selected { outline:1px solid var(--accent); border-radius:4px; }
#timeline li { border-left:3px solid #2b3445; padding:.25rem .6rem; margin:.2rem 0; font-family:ui-monospace, monospace; font-size:.8rem; white-space:pre-wrap; word-break:break-word; }
#timeline li.kind-model { border-color:var(--accent); }
#timeline li.kind-tool { border-color:var(--ok); }
#timeline li.kind-tool-error { border-color:var(--bad); }
#timeline li.kind-denied { border-color:var(--bad); background:#2a1315; color:#ffb3b6; }
#timeline li.kind-spawn, #timeline li.kind-message { border-color:var(--warn); }
#timeline li.kind-approval { border-color:#b18cff; }
.caps li { font-family:ui-monospace, monospace; font-size:.8rem; }
.approval { display:flex; flex-wrap:wrap; gap:.4rem; align-items:center; }
.approval code { flex-basis:100%; color:var(--muted); }
.approval input { width:4.5rem; }
`;
