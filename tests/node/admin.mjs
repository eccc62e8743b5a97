// Arranges a runtime fixture over chatdouble's admin API with fetch, calls chat through the official
// openai Node SDK in the same namespace, then verifies the request over the admin API; prints what it
// saw as JSON. Usage: node admin.mjs <base_url>   (run by tests/test_node_sdk.py against a live server)
import OpenAI from "openai";

const base = process.argv[2];
const root = base.replace(/\/v1\/?$/, "");
const session = "node-admin-test";
const headers = {
  Authorization: "Bearer sk-node",
  "X-Chatdouble-Session": session,
  "Content-Type": "application/json",
};
const admin = async (method, path, body) => {
  const reply = await fetch(`${root}/_chatdouble${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: reply.status, body: await reply.json() };
};

const out = {};
out.added = await admin("POST", "/fixtures", {
  match: { last_user: { contains: "forecast" } },
  response: { text: "Rain at noon, from a Node-arranged fixture." },
});

const client = new OpenAI({
  baseURL: base,
  apiKey: "sk-node",
  maxRetries: 0,
  defaultHeaders: { "X-Chatdouble-Session": session },
});
const completion = await client.chat.completions.create({
  model: "gpt-4o",
  messages: [{ role: "user", content: "What is the forecast?" }],
});
out.text = completion.choices[0].message.content;

out.verified = await admin("POST", "/verify", {
  match: { last_user: { contains: "forecast" } },
  count: { eq: 1 },
});
out.missed = await admin("POST", "/verify", { match: { last_user: { contains: "sunshine" } } });
out.reset = await admin("POST", "/reset");
console.log(JSON.stringify(out));
