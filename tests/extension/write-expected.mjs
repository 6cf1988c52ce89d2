// Developer tool, not a test: prints what the adapter returns for a fixture, in the expected.json
// shape, so a new fixture's expectation can be written and then REVIEWED by hand before commit.
//   node tests/extension/write-expected.mjs upload https://chat.deepseek.com/a/chat/s/<id> [historyName]
import { scanPage } from "../../extension/content/adapter.js";
import { loadDocument, project, readFixtureJson } from "./fixture-helpers.js";

const [name, url, historyName] = process.argv.slice(2);
const document = loadDocument(name);
const history = historyName ? readFixtureJson(`${historyName}.history.json`) : null;
const scan = scanPage(document, new URL(url), { history });
process.stdout.write(`${JSON.stringify({ url, history: historyName ?? null, scan: project(scan) }, null, 2)}\n`);
