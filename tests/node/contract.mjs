// Drives chatdouble with the official openai Node SDK and prints what it saw as JSON.
// Usage: node contract.mjs <base_url>   (run by tests/test_node_sdk.py against a live server)
import OpenAI from "openai";

const client = new OpenAI({ baseURL: process.argv[2], apiKey: "sk-node", maxRetries: 0 });
const messages = [{ role: "user", content: "Hello from Node" }];
const out = {};

const { data: completion, response } = await client.chat.completions
  .create({ model: "gpt-4o", messages })
  .withResponse();
out.completion = completion;
out.requestId = response.headers.get("x-request-id");

const stream = await client.chat.completions.create({
  model: "gpt-4o",
  messages,
  stream: true,
  stream_options: { include_usage: true },
});
out.chunks = [];
for await (const chunk of stream) out.chunks.push(chunk);

const tools = [
  {
    type: "function",
    function: {
      name: "lookup",
      parameters: {
        type: "object",
        properties: { term: { type: "string" }, limit: { type: "integer", minimum: 1 } },
        required: ["term", "limit"],
      },
    },
  },
];
const runner = client.chat.completions.stream({ model: "gpt-4o", messages, tools, tool_choice: "required" });
out.toolCompletion = await runner.finalChatCompletion();

try {
  await client.chat.completions.create({ model: "gpt-4o", messages, temperature: 3 });
} catch (error) {
  out.error = { name: error.constructor.name, status: error.status, code: error.code, param: error.param };
}
console.log(JSON.stringify(out));
