// Parse every ```mermaid block of the Markdown files given with Mermaid's own parser (mermaid@11 in
// jsdom). Exit 1 when one does not parse. Run by tests/test_markdown.py when AIBPLAN_MERMAID_MODULES
// names a node_modules folder holding `mermaid` and `jsdom` (npm install mermaid@11 jsdom).
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const modules = process.env.AIBPLAN_MERMAID_MODULES;
const require = createRequire(path.join(modules, "noop.js"));
const { JSDOM } = require("jsdom");
const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
globalThis.DOMParser = dom.window.DOMParser;
const { default: mermaid } = await import(require.resolve("mermaid"));

let failed = 0;
for (const file of process.argv.slice(2)) {
  const text = fs.readFileSync(file, "utf8");
  for (const match of text.matchAll(/```mermaid\n([\s\S]*?)```/g)) {
    try {
      await mermaid.parse(match[1]);
      console.log(`ok ${file}`);
    } catch (error) {
      failed += 1;
      console.log(`FAIL ${file}: ${String(error).slice(0, 400)}`);
    }
  }
}
process.exit(failed ? 1 : 0);
