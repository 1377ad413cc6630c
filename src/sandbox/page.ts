/**
 * The sandbox page: a small imitation of the Slack client. Its script (`client/app.ts`) fetches
 * what the chosen person sees and sends what they do to `/sandbox/act`.
 */
export function pageHtml(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>Tasklane sandbox</title>
<style>${CSS}</style>
</head>
<body>
<div class="banner" role="note"><b>Tasklane sandbox</b> — a local stand-in for Slack on this computer. Nothing here reaches a real Slack workspace.</div>
<header class="top">
  <label>You are <select id="as" aria-label="Acting as"></select></label>
  <div class="shortcuts"><button id="bolt" type="button" aria-haspopup="menu" title="Shortcuts">⚡ Shortcuts</button><div id="bolt-menu" class="menu" role="menu" hidden></div></div>
</header>
<div class="layout">
  <nav id="sidebar" aria-label="Conversations"></nav>
  <main id="main"></main>
</div>
<div id="modal-layer" hidden></div>
<div id="toast" role="status" aria-live="polite" hidden></div>
<script type="module" src="/sandbox/client/app.js"></script>
</body>
</html>`;
}

const CSS = `
:root { --ink:#1d1c1d; --muted:#616061; --line:#ddd; --brand:#4a154b; --accent:#1264a3; --green:#007a5a; --red:#e01e5a; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin:0; font: 15px/1.45 -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif, "Noto Color Emoji"; color: var(--ink); }
.banner { background:#fff4d6; border-bottom:1px solid #f0d78c; padding:6px 14px; font-size:13px; }
.top { display:flex; gap:16px; align-items:center; background:var(--brand); color:#fff; padding:8px 14px; }
.top select { margin-left:6px; }
.shortcuts { position:relative; }
.menu { position:absolute; z-index:5; background:#fff; color:var(--ink); border:1px solid var(--line); border-radius:6px; box-shadow:0 4px 12px #0003; min-width:200px; padding:4px 0; }
.menu button { display:block; width:100%; text-align:left; border:0; background:none; padding:6px 12px; cursor:pointer; font:inherit; }
.menu button:hover { background:#1264a3; color:#fff; }
.layout { display:flex; height: calc(100vh - 80px); }
nav { width:220px; background:#3f0e40; color:#ddd; padding:10px 0; overflow:auto; }
nav h4 { margin:12px 14px 4px; font-size:12px; text-transform:uppercase; color:#bbb; }
nav button { display:block; width:100%; text-align:left; background:none; border:0; color:inherit; padding:4px 14px; cursor:pointer; font:inherit; }
nav button.active { background:var(--accent); color:#fff; }
main { flex:1; display:flex; flex-direction:column; min-width:0; }
.pane-title { padding:10px 16px; border-bottom:1px solid var(--line); font-weight:700; }
.scroll { flex:1; overflow:auto; padding:8px 16px; }
.msg { position:relative; padding:6px 8px; border-radius:6px; }
.msg:hover { background:#f8f8f8; }
.msg .who { font-weight:700; } .msg .when { color:var(--muted); font-size:12px; margin-left:6px; }
.msg .tools { position:absolute; right:8px; top:4px; display:none; gap:4px; }
.msg:hover .tools, .msg:focus-within .tools, .msg .tools.open { display:flex; }
.msg .tools .menu { top:26px; right:0; }
.msg .tools button { border:1px solid var(--line); background:#fff; border-radius:4px; cursor:pointer; }
.thread { margin-left:28px; border-left:2px solid var(--line); padding-left:8px; }
.ephemeral { background:#f3f8fc; border-left:3px solid var(--accent); }
.only-you { color:var(--muted); font-size:12px; }
.reactions span { display:inline-block; border:1px solid var(--line); border-radius:10px; padding:0 6px; font-size:13px; margin-right:4px; }
.edited { color:var(--muted); font-size:12px; }
.composer { border-top:1px solid var(--line); padding:10px 16px; display:flex; gap:8px; }
.composer input { flex:1; padding:8px; font:inherit; border:1px solid #aaa; border-radius:6px; }
.block { margin:6px 0; }
.block.section { display:flex; gap:12px; align-items:flex-start; }
.section-body { flex:1; }
.fields { display:grid; grid-template-columns:1fr 1fr; gap:4px 16px; margin-top:4px; }
.block.context { color:var(--muted); font-size:13px; display:flex; gap:8px; flex-wrap:wrap; }
.block.actions { display:flex; gap:8px; flex-wrap:wrap; }
.block.header h3 { margin:8px 0 4px; }
.block.input label { display:block; font-weight:700; margin-bottom:4px; }
.block.input input[type=text], .block.input textarea, .block.input select, .block.input input[type=search] { width:100%; padding:6px; font:inherit; }
.block.input textarea { min-height:80px; }
.optional { color:var(--muted); font-weight:400; }
.hint { color:var(--muted); font-size:13px; }
.input-error { color:var(--red); font-size:13px; }
.btn { border:1px solid #bbb; background:#fff; border-radius:4px; padding:4px 10px; cursor:pointer; font:inherit; }
.btn-primary { background:var(--green); border-color:var(--green); color:#fff; }
.btn-danger { background:#fff; border-color:var(--red); color:var(--red); }
.mention { background:#e8f5fa; color:var(--accent); border-radius:3px; padding:0 2px; }
.mention.broadcast { background:#fef5d6; color:#7a5c00; }
blockquote { margin:2px 0; padding-left:8px; border-left:3px solid var(--line); }
code { background:#f4f4f4; border:1px solid #e1e1e1; border-radius:3px; padding:0 3px; color:#c01343; }
pre { background:#f8f8f8; border:1px solid #e1e1e1; border-radius:4px; padding:6px; white-space:pre-wrap; }
.unknown { border:1px dashed var(--red); color:var(--red); padding:4px; font-size:13px; }
.external { position:relative; display:inline-block; min-width:240px; }
.external-options { position:absolute; z-index:4; background:#fff; border:1px solid var(--line); width:100%; max-height:220px; overflow:auto; }
.external-options button { display:block; width:100%; text-align:left; border:0; background:none; padding:4px 8px; cursor:pointer; font:inherit; }
.external-options button:hover { background:#eef; }
.external .chosen { font-size:13px; color:var(--muted); }
#modal-layer { position:fixed; inset:0; background:#0006; display:flex; align-items:flex-start; justify-content:center; padding-top:6vh; z-index:10; }
.modal { background:#fff; border-radius:8px; width:min(560px, 94vw); max-height:86vh; display:flex; flex-direction:column; box-shadow:0 8px 30px #0005; }
.modal header { padding:12px 16px; border-bottom:1px solid var(--line); display:flex; justify-content:space-between; align-items:center; }
.modal header h2 { margin:0; font-size:18px; }
.modal .stack { color:var(--muted); font-size:12px; }
.modal .body { padding:8px 16px; overflow:auto; }
.modal footer { padding:10px 16px; border-top:1px solid var(--line); display:flex; justify-content:flex-end; gap:8px; }
.workflow { border:1px solid var(--line); border-radius:8px; padding:10px 14px; margin:10px 0; }
.workflow label { display:block; margin:6px 0 2px; font-weight:600; }
.workflow input[type=text], .workflow textarea, .workflow select { width:100%; padding:6px; font:inherit; }
.run { border-top:1px dashed var(--line); padding:6px 0; font-size:14px; }
.run .state-running { color:#7a5c00; } .run .state-completed { color:var(--green); } .run .state-failed { color:var(--red); }
#toast { position:fixed; bottom:16px; left:50%; transform:translateX(-50%); background:#1d1c1d; color:#fff; padding:8px 14px; border-radius:6px; z-index:20; }
`;
