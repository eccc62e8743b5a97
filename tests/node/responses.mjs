// Drives chatdouble's Responses API with the official openai Node SDK and prints what it saw as JSON.
// Usage: node responses.mjs <base_url>   (run by tests/test_node_sdk.py against a live server)
import OpenAI from "openai";

const client = new OpenAI({ baseURL: process.argv[2], apiKey: "sk-node", maxRetries: 0 });
const input = "Hello from Node — ça va? 你好";
const out = {};

const { data: response, response: http } = await client.responses
  .create({ model: "gpt-4o", input })
  .withResponse();
out.response = response;
out.outputText = response.output_text;
out.requestId = http.headers.get("x-request-id");

const stream = await client.responses.create({ model: "gpt-4o", input, stream: true });
out.events = [];
for await (const event of stream) out.events.push(event);

const helper = client.responses.stream({ model: "gpt-4o", input, previous_response_id: response.id });
out.helperDeltas = [];
helper.on("response.output_text.delta", (event) => out.helperDeltas.push(event.delta));
const final = await helper.finalResponse();
// (the helper's final response has no `output_text` unless a text format is parsed: read the output)
out.helperFinal = { id: final.id, output: final.output, previousResponseId: final.previous_response_id };

const tools = [
  {
    type: "function",
    name: "lookup",
    parameters: {
      type: "object",
      properties: { term: { type: "string" }, limit: { type: "integer", minimum: 1 } },
      required: ["term", "limit"],
      additionalProperties: false,
    },
  },
];
const called = await client.responses
  .stream({ model: "gpt-4o", input, tools, tool_choice: "required" })
  .finalResponse();
out.call = called.output[0];

try {
  await client.responses.create({ model: "gpt-4o", input, previous_response_id: "resp_unknown" });
} catch (error) {
  out.error = { name: error.constructor.name, status: error.status, code: error.code, param: error.param };
}
console.log(JSON.stringify(out));
