/**
 * The console's one HTML page: the skeleton the script (console.browser.ts) fills, and its styles. The
 * config is JSON in a non-executable script tag, so the CSP can forbid inline scripts.
 */
export function consolePage(config: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>onair console</title>
<style>
  :root { --line: #d8dbe0; --muted: #667; --bg: #f6f7f9; --accent: #1f6feb; --bad: #c62828; --good: #2e7d32; }
  * { box-sizing: border-box; }
  body { font: 14px/1.45 system-ui, sans-serif; margin: 0; color: #1b1f24; background: #fff; }
  a { color: var(--accent); }
  button, input, select, textarea { font: inherit; }
  button { cursor: pointer; border: 1px solid var(--line); background: #fff; border-radius: 6px; padding: .3rem .7rem; }
  button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
  button.danger { color: var(--bad); border-color: var(--bad); }
  button:disabled { opacity: .5; cursor: default; }
  :focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
  input, select, textarea { border: 1px solid var(--line); border-radius: 6px; padding: .3rem .5rem; min-width: 0; }
  .skip { position: absolute; left: -9999px; }
  .skip:focus { left: .5rem; top: .5rem; background: #fff; padding: .3rem; z-index: 2; }
  header.top { display: flex; flex-wrap: wrap; gap: .5rem 1.25rem; align-items: center; padding: .5rem 1rem; background: #111827; color: #eef; }
  header.top h1 { font-size: 1rem; margin: 0; }
  header.top nav { display: flex; gap: .75rem; }
  header.top nav a { color: #cfe0ff; text-decoration: none; padding: .15rem .2rem; }
  header.top nav a[aria-current="page"] { color: #fff; border-bottom: 2px solid #fff; }
  header.top .who { margin-left: auto; display: flex; gap: .75rem; align-items: center; }
  header.top button { background: transparent; color: #eef; border-color: #556; }
  main { padding: 0; }
  [hidden] { display: none !important; }
  #login { max-width: 26rem; margin: 4rem auto; padding: 1.5rem; border: 1px solid var(--line); border-radius: 10px; }
  #login form { display: grid; gap: .6rem; }
  .error { color: var(--bad); }
  .ok { color: var(--good); }
  .muted, small { color: var(--muted); }
  #streamers-view { display: grid; grid-template-columns: minmax(17rem, 22rem) 1fr; height: calc(100vh - 2.75rem); }
  #list-pane { border-right: 1px solid var(--line); display: flex; flex-direction: column; min-height: 0; background: var(--bg); }
  #list-pane .tools { padding: .6rem; display: grid; gap: .5rem; border-bottom: 1px solid var(--line); }
  #add-form { display: flex; gap: .4rem; }
  #add-form input { flex: 1; }
  #streamer-list { list-style: none; margin: 0; padding: 0; overflow-y: auto; flex: 1; }
  #streamer-list li a { display: grid; grid-template-columns: 1fr auto; gap: 0 .5rem; padding: .5rem .75rem; border-bottom: 1px solid var(--line); color: inherit; text-decoration: none; }
  #streamer-list li a[aria-current="true"] { background: #dbe8ff; }
  #streamer-list li a:hover { background: #eaf1ff; }
  #streamer-list .name { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  #streamer-list .when { grid-column: 1 / 3; font-size: .8rem; color: var(--muted); }
  .pager { display: flex; align-items: center; justify-content: space-between; gap: .5rem; padding: .5rem .6rem; border-top: 1px solid var(--line); }
  .badge { display: inline-block; font-size: .75rem; padding: 0 .45rem; border-radius: 999px; border: 1px solid var(--line); background: #fff; }
  .badge.live { background: var(--bad); border-color: var(--bad); color: #fff; font-weight: 600; }
  .badge.suspended { background: #fff4d6; border-color: #e0b84c; }
  .badge.archived { background: #eee; color: var(--muted); }
  .badge.failed, .badge.unhealthy { background: #fde7e7; border-color: var(--bad); color: var(--bad); }
  .badge.healthy { background: #e5f5e8; border-color: var(--good); color: var(--good); }
  #detail { overflow-y: auto; padding: 1rem 1.25rem 3rem; min-width: 0; }
  #detail h2 { margin: 0; font-size: 1.35rem; }
  #detail h3 { font-size: 1rem; margin: 1.5rem 0 .5rem; }
  .row { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; }
  .back { display: none; }
  .chart { width: 100%; max-width: 56rem; height: auto; display: block; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
  .chart .grid line { stroke: #eceef1; }
  .chart text { font-size: 11px; fill: var(--muted); }
  .chart .series { fill: none; stroke-width: 1.6; }
  .chart .bar { fill: #7aa7f0; }
  .chart .empty { font-size: 14px; fill: var(--muted); }
  .table-wrap { overflow-x: auto; max-width: 100%; }
  table { border-collapse: collapse; font-size: .9rem; }
  th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid var(--line); white-space: nowrap; vertical-align: top; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  tr.failed td { background: #fdeeee; }
  td.error-text { white-space: normal; color: var(--bad); max-width: 28rem; }
  #chat-tail { list-style: none; margin: 0; padding: .5rem; height: 14rem; overflow-y: auto; border: 1px solid var(--line); border-radius: 6px; max-width: 56rem; }
  #chat-tail li { padding: .1rem 0; overflow-wrap: anywhere; }
  .page { padding: 1rem 1.25rem; }
  .page form { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin-bottom: 1rem; }
  textarea { width: 100%; max-width: 36rem; min-height: 3.5rem; }
  @media (max-width: 760px) {
    #streamers-view { grid-template-columns: 1fr; height: auto; }
    #streamers-view.has-selection #list-pane { display: none; }
    #streamers-view:not(.has-selection) #detail { display: none; }
    #list-pane { border-right: 0; }
    #streamer-list { max-height: none; }
    #detail { padding: .75rem; }
    .back { display: inline-block; margin-bottom: .5rem; }
    header.top .who { margin-left: 0; }
  }
</style>
</head>
<body data-state="loading">
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <h1>onair console</h1>
  <nav id="nav" hidden aria-label="Sections">
    <a href="#/streamers" data-section="streamers">Streamers</a>
    <a href="#/audit" data-section="audit" data-admin>Audit log</a>
    <a href="#/jobs" data-section="jobs" data-admin>Jobs</a>
  </nav>
  <div class="who" id="who" hidden><span id="who-name"></span><button id="sign-out" type="button">Sign out</button></div>
</header>
<main id="main" tabindex="-1">
  <section id="login" hidden aria-labelledby="login-title">
    <h2 id="login-title">Sign in</h2>
    <form id="login-form">
      <label for="login-token">Operator token</label>
      <input id="login-token" name="token" type="password" autocomplete="current-password" required>
      <button class="primary" type="submit">Sign in</button>
      <p id="login-error" class="error" role="alert"></p>
    </form>
  </section>

  <section id="streamers-view" hidden>
    <div id="list-pane">
      <div class="tools">
        <input id="search" type="search" placeholder="Search name or slug" aria-label="Search streamers" autocomplete="off">
        <form id="add-form" data-admin aria-label="Add a Kick streamer">
          <input id="add-slug" placeholder="Kick slug to add" aria-label="Kick slug to add" pattern="[A-Za-z0-9_-]+" maxlength="64" required autocomplete="off">
          <button class="primary" type="submit">Add</button>
        </form>
        <p id="add-status" role="status" aria-live="polite"></p>
      </div>
      <ul id="streamer-list" aria-label="Streamers, most recent activity first"></ul>
      <div class="pager">
        <button id="prev-page" type="button" aria-label="Previous page">‹ Prev</button>
        <small id="page-info" aria-live="polite"></small>
        <button id="next-page" type="button" aria-label="Next page">Next ›</button>
      </div>
    </div>
    <section id="detail" aria-live="polite"><p class="muted">Select a streamer.</p></section>
  </section>

  <section id="audit-view" class="page" hidden>
    <h2>Audit log</h2>
    <div class="table-wrap"><table><thead><tr><th>When (UTC)</th><th>Who</th><th>Action</th><th>Target</th><th>Change</th></tr></thead><tbody id="audit-rows"></tbody></table></div>
    <p><button id="audit-more" type="button">Load more</button></p>
  </section>

  <section id="jobs-view" class="page" hidden>
    <h2>Jobs</h2>
    <form id="rerun-form" aria-label="Re-run a day's summary">
      <label for="rerun-day">Re-run the summary of</label>
      <input id="rerun-day" type="date" required>
      <label><input id="rerun-notify" type="checkbox"> send its message</label>
      <button class="primary" type="submit">Re-run</button>
      <span id="rerun-status" role="status"></span>
    </form>
    <form id="jobs-filter">
      <label for="jobs-status">Show</label>
      <select id="jobs-status"><option value="">all runs</option><option value="failed">failed</option><option value="running">running</option><option value="succeeded">succeeded</option></select>
    </form>
    <div class="table-wrap"><table><thead><tr><th>Started (UTC)</th><th>Job</th><th>Period</th><th>Status</th><th class="num">Attempt</th><th class="num">Took</th><th>Worker</th><th>Error</th></tr></thead><tbody id="job-rows"></tbody></table></div>
    <p><button id="jobs-more" type="button">Load more</button></p>
  </section>
</main>
<script type="application/json" id="console-config">${config}</script>
<script src="/console/app.js"></script>
</body>
</html>`;
}
