// A browser page on another origin uses the API the way a web app would, in headless Chromium:
// it creates a task (fetch, cross-origin, Bearer key), follows it with the Server-Sent Events stream
// at the task's events_url (EventSource), then plays the film with its WebVTT subtitles
// (<video crossorigin> + <track>).  Asserted: the task completed, the stream delivered events, the
// video played (currentTime advanced, no media error), a subtitle cue became active.
//
// usage: node film.mjs NODE_MODULES_DIR BIN_DIR CHROMIUM
import { createRequire } from "node:module";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, existsSync, rmSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";

const [modules, bin, chromiumPath] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(modules), "x.js"));
const { chromium } = require("playwright-core");

const work = mkdtempSync(path.join(process.env.TMPDIR || os.tmpdir(), "lvbrowser."));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let server, pageServer, browser;

// The page: everything it does is plain web platform code, as a customer's page would have it.
const PAGE = `<!doctype html><meta charset="utf-8"><title>film</title>
<video id="v" crossorigin="anonymous" muted playsinline width="320"></video>
<script>
window.result = { log: [], events: 0, statuses: [] };
const R = window.result;
async function run(api, key) {
  const res = await fetch(api + "/v1/videos", {
    method: "POST",
    headers: { "Authorization": "Bearer " + key, "Content-Type": "application/json",
               "Idempotency-Key": "browser-" + Date.now() },
    body: JSON.stringify({ prompt: "A lighthouse keeper lights the lamp at dusk", duration: 5,
                           aspect_ratio: "16:9", metadata: { from: "browser" } }),
  });
  R.createStatus = res.status;
  R.requestId = res.headers.get("X-Request-Id");
  R.location = res.headers.get("Location");
  const task = await res.json();
  R.taskId = task.task_id;
  const done = await new Promise((resolve, reject) => {
    const es = new EventSource(task.events_url);
    es.addEventListener("task", (e) => {
      const t = JSON.parse(e.data);
      R.events++;
      R.lastEventId = e.lastEventId;
      if (R.statuses[R.statuses.length - 1] !== t.status) R.statuses.push(t.status);
      if (["completed", "failed", "canceled"].includes(t.status)) { es.close(); resolve(t); }
    });
    es.onerror = () => { if (es.readyState === EventSource.CLOSED) reject(new Error("event stream closed")); };
  });
  R.final = { status: done.status, result_url: done.result_url, subtitles_url: done.subtitles_url };
  if (done.status !== "completed") return;
  const v = document.getElementById("v");
  const track = document.createElement("track");
  track.kind = "subtitles"; track.srclang = done.language; track.label = "narration";
  track.src = done.subtitles_url; track.default = true;
  v.appendChild(track);
  v.src = done.result_url;
  v.addEventListener("error", () => { R.mediaError = v.error ? v.error.code + " " + v.error.message : "error"; });
  track.addEventListener("error", () => { R.trackError = true; });
  const tt = v.textTracks[0];
  tt.mode = "showing";
  tt.addEventListener("cuechange", () => {
    if (tt.activeCues && tt.activeCues.length > 0 && !R.activeCue) R.activeCue = tt.activeCues[0].text;
  });
  await new Promise((r) => v.addEventListener("loadedmetadata", r, { once: true }));
  R.duration = v.duration;
  R.videoWidth = v.videoWidth;
  R.startTime = v.currentTime;
  await v.play();
  await new Promise((r) => {
    const tick = () => (v.currentTime > 1.5 && R.activeCue) || v.ended ? r() : setTimeout(tick, 100);
    tick();
  });
  R.currentTime = v.currentTime;
  R.cues = tt.cues ? tt.cues.length : 0;
}
</script>`;

async function main() {
  if (!existsSync(chromiumPath)) {
    console.log(`film.mjs: ${chromiumPath} is missing`);
    process.exit(77);
  }
  // The page's origin: a second loopback port.
  pageServer = http.createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    res.end(PAGE);
  });
  await new Promise((r) => pageServer.listen(0, "127.0.0.1", r));
  const origin = `http://127.0.0.1:${pageServer.address().port}`;

  const config = path.join(work, "config.json");
  writeFileSync(config, JSON.stringify({
    server: { cors_origins: [origin] },
    pipeline: { lease_seconds: 5 },
    providers: { local: { type: "local", latency_ms: 0 } },
  }));
  const data = path.join(work, "data");
  const env = { ...process.env, LV_LOG_LEVEL: "warn" };
  const key = JSON.parse(execFileSync(path.join(bin, "lvctl"),
    ["--config", config, "--data-dir", data, "--json", "keys", "create", "--name", "browser", "--credits", "1000"],
    { env })).api_key;
  const portFile = path.join(work, "port");
  server = spawn(path.join(bin, "lvserver"),
    ["--config", config, "--data-dir", data, "--listen", "127.0.0.1:0", "--port-file", portFile, "--workers", "1"],
    { env, stdio: ["ignore", "ignore", "pipe"] });
  let serverLog = "";
  server.stderr.on("data", (d) => (serverLog += d));
  for (let i = 0; i < 200 && !(existsSync(portFile) && readFileSync(portFile, "utf8").trim()); i++) await sleep(100);
  const api = `http://127.0.0.1:${readFileSync(portFile, "utf8").trim()}`;

  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ["--autoplay-policy=no-user-gesture-required", "--no-sandbox", "--mute-audio"],
  });
  const page = await browser.newPage();
  const consoleLines = [];
  page.on("console", (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => consoleLines.push(`pageerror: ${e.message}`));
  await page.goto(origin + "/");
  let err = null;
  try {
    await page.evaluate(([a, k]) => run(a, k), [api, key]);
  } catch (e) {
    err = e;
  }
  const R = await page.evaluate(() => window.result);
  console.log(JSON.stringify(R, null, 1));
  const failures = [];
  const expect = (ok, what) => { if (!ok) failures.push(what); };
  expect(!err, `the page's script failed: ${err && err.message}`);
  expect(R.createStatus === 202, `create answered ${R.createStatus} (CORS must let the page read it)`);
  expect(R.requestId && R.location, "X-Request-Id and Location are exposed to the page");
  expect(R.events >= 2 && R.statuses[R.statuses.length - 1] === "completed",
    `the event stream ended with completed (statuses: ${R.statuses.join(" -> ")})`);
  expect(R.final && R.final.status === "completed", "the task completed");
  expect(R.duration > 4 && R.videoWidth > 0, `the film has a picture and a duration (${R.duration} s)`);
  expect(R.currentTime > R.startTime + 1, `the film played (currentTime ${R.startTime} -> ${R.currentTime})`);
  expect(!R.mediaError, `no media error (${R.mediaError})`);
  expect(!R.trackError && R.cues > 0, `the WebVTT track loaded (${R.cues} cues)`);
  expect(typeof R.activeCue === "string" && R.activeCue.length > 0, "a subtitle cue became active");
  if (failures.length) {
    console.error("browser test failed:\n  " + failures.join("\n  "));
    console.error("page console:\n  " + consoleLines.join("\n  "));
    console.error("server log:\n" + serverLog);
    process.exitCode = 1;
  } else {
    console.log(`browser: ok (${R.events} events, played to ${R.currentTime.toFixed(2)} s, cue "${R.activeCue}")`);
  }
}

try {
  await main();
} catch (e) {
  console.error(e);
  process.exitCode = 1;
} finally {
  if (browser) await browser.close().catch(() => {});
  if (pageServer) pageServer.close();
  if (server) {
    server.kill("SIGTERM");
    await new Promise((r) => (server.exitCode !== null ? r() : server.on("exit", r)));
  }
  rmSync(work, { recursive: true, force: true });
}
