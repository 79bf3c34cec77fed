// The quickstart with a client generated from docs/openapi.json: openapi-typescript turns the
// document into types (api.d.ts), openapi-fetch is the typed client, and tsc --strict checks this
// file against them before it runs.  create -> follow the event stream -> get -> download.
// usage: node quickstart.mjs BASE_URL API_KEY OUT.mp4
import createClient from "openapi-fetch";
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import type { paths, components } from "./api.js";

type TaskDetail = components["schemas"]["TaskDetail"];

const [baseUrl, key, out] = process.argv.slice(2);
const client = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${key}` } });

// 1. Create (idempotent: the same key and body would replay the same task).
const idem = randomUUID();
const created = await client.POST("/v1/videos", {
  params: { header: { "Idempotency-Key": idem } },
  body: { prompt: "A lighthouse keeper lights the lamp at dusk", duration: 5, metadata: { from: "sdk" } },
});
if (!created.data) throw new Error(`create: ${created.response.status} ${JSON.stringify(created.error)}`);
const id: string = created.data.task_id;
console.log(`created ${id}: ${created.data.status}, estimate ${created.data.cost_estimate} credits, ` +
  `Location ${created.response.headers.get("Location")}`);

const replay = await client.POST("/v1/videos", {
  params: { header: { "Idempotency-Key": idem } },
  body: { prompt: "A lighthouse keeper lights the lamp at dusk", duration: 5, metadata: { from: "sdk" } },
});
if (replay.data?.task_id !== id || replay.response.headers.get("Idempotent-Replayed") !== "true")
  throw new Error("the replayed create did not return the same task");

// 2. Follow the live progress (Server-Sent Events, Bearer) until the terminal event.
const events = await client.GET("/v1/videos/{id}/events", { params: { path: { id } }, parseAs: "stream" });
if (!events.response.ok || !events.data) throw new Error(`events: ${events.response.status}`);
let last: TaskDetail | undefined;
let n = 0;
{
  const reader = (events.data as ReadableStream<Uint8Array>).getReader();
  const dec = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let cut: number;
    while ((cut = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart()).join("\n");
      if (!data) continue;
      last = JSON.parse(data) as TaskDetail;
      n++;
      console.log(`event ${n}: ${last.status} ${last.progress}% (${last.shots_done}/${last.shots_total} shots)`);
    }
  }
}
if (!last || last.status !== "completed") throw new Error(`the stream ended with ${last?.status}`);

// 3. Get the result.
const got = await client.GET("/v1/videos/{id}", { params: { path: { id } } });
if (!got.data) throw new Error(`get: ${got.response.status}`);
const task: TaskDetail = got.data;
if (task.status !== "completed" || !task.result_url || task.cost_actual === null)
  throw new Error(`unexpected task: ${JSON.stringify(task)}`);
console.log(`completed: ${task.result_url} (${task.shots.length} shots, cost ${task.cost_actual})`);

// 4. Download the film (Bearer) and the subtitles (capability URL).
const film = await client.GET("/v1/videos/{id}/content", { params: { path: { id } }, parseAs: "arrayBuffer" });
if (!film.data) throw new Error(`content: ${film.response.status}`);
const bytes = new Uint8Array(film.data as ArrayBuffer);
if (new TextDecoder().decode(bytes.subarray(4, 8)) !== "ftyp") throw new Error("the download is not an MP4");
writeFileSync(out, bytes);
console.log(`downloaded ${bytes.length} bytes to ${out}`);

// 5. What it cost.
const credits = await client.GET("/v1/credits");
const ledger = await client.GET("/v1/credits/ledger", { params: { query: { limit: 10 } } });
if (!credits.data || !ledger.data) throw new Error("credits");
console.log(`balance ${credits.data.balance}, reserved ${credits.data.reserved}; ledger: ` +
  ledger.data.data.map((e) => `${e.kind} ${e.amount}`).join(", "));

// And a typed error.
const missing = await client.GET("/v1/videos/{id}", { params: { path: { id: "vid_doesnotexist0000" } } });
if (missing.response.status !== 404 || missing.error?.error.code !== "task_not_found")
  throw new Error(`expected 404 task_not_found, got ${missing.response.status}`);
console.log("quickstart: ok");
