"""A tool's parameters title in the prompt (docs/usage.md): a comment line where the type opens,
unless a function offered in the same request has `$defs`. The recorded numbers name their cassette.
"""

from __future__ import annotations

from server.generation.conversation import Tool
from server.generation.tool_rendering import render_functions
from tests.support.requests import ChatClient


async def _input_tokens(chat: ChatClient, **body: object) -> int:
    response = await chat.http.post("/v1/responses", json=body)
    assert response.status_code == 200, response.text
    return int(response.json()["usage"]["input_tokens"])


RECIPE = {
    "$defs": {
        "Recipe": {
            "properties": {
                "id": {"title": "Id", "type": "string"},
                "name": {"title": "Name", "type": "string"},
                "ingredients": {"items": {"type": "string"}, "title": "Ingredients", "type": "array"},
                "instructions": {"items": {"type": "string"}, "title": "Instructions", "type": "array"},
                "prep_time": {"title": "Prep Time", "type": "string"},
                "cook_time": {"title": "Cook Time", "type": "string"},
                "servings": {"title": "Servings", "type": "integer"},
            },
            "required": ["id", "name", "ingredients", "instructions", "prep_time", "cook_time", "servings"],
            "title": "Recipe",
            "type": "object",
            "additionalProperties": False,
        }
    },
    "properties": {
        "recipe": {"$ref": "#/$defs/Recipe"},
        "modification_request": {"title": "Modification Request", "type": "string"},
    },
    "required": ["recipe", "modification_request"],
    "title": "plan_and_apply_recipe_modifications_args",
    "type": "object",
    "additionalProperties": False,
}
SEARCH = {
    "properties": {"query": {"default": "", "title": "Query", "type": "string"}},
    "title": "search_recipes_args",
    "type": "object",
    "additionalProperties": False,
    "required": ["query"],
}


def test_no_parameters_title_shows_when_a_function_offered_has_defs() -> None:
    search = Tool("search_recipes", SEARCH, strict=True)
    alone = render_functions((search,), titles=True).splitlines()
    assert alone[2] == "type search_recipes = (_: // search_recipes_args"
    beside = render_functions((search, Tool("plan", RECIPE, strict=True)), titles=True).splitlines()
    assert beside[2] == "type search_recipes = (_: {"
    assert "type plan = (_: {" in beside
    assert "  // Prep Time" in beside  # the properties' titles still show


async def test_the_recipe_agents_count_their_tools_without_the_parameters_titles(chat: ChatClient) -> None:
    # Recorded: traceloop/openllmetry packages/opentelemetry-instrumentation-openai-agents/tests/
    # cassettes/test_recipe_agents_hierarchy/test_recipe_agents_hierarchy.yaml #1 (gpt-4o-2024-08-06,
    # the OpenAI Agents SDK): input_tokens 310; the two titles would cost 15 more (docs/usage.md).
    instructions = (
        "\n        You are a recipe editor specialist powered by AI. Your role is to:\n"
        "        1. Help users search and browse recipes using the search_recipes tool with intelligent"
        " semantic search\n"
        "        2. Modify recipes using AI-powered analysis with the plan_and_apply_recipe_modifications"
        " tool\n\n        When users want to modify a recipe:\n"
        "        1. Use search_recipes to find the recipe if they mention it by name\n"
        "        2. Use plan_and_apply_recipe_modifications to intelligently modify the recipe using AI\n"
        "        "
    )
    call = {
        "arguments": "{}",
        "call_id": "call_SnH1PYUSn2A1TrgEx8dlna09",
        "name": "transfer_to_recipe_editor_agent",
        "type": "function_call",
        "id": "fc_689f74ea031481969f11aed0ebe9925a05e045a92c8fd6eb",
        "status": "completed",
    }
    result = {
        "call_id": "call_SnH1PYUSn2A1TrgEx8dlna09",
        "output": '{"assistant": "Recipe Editor Agent"}',
        "type": "function_call_output",
    }
    tools = [
        {
            "name": "search_recipes",
            "parameters": SEARCH,
            "strict": True,
            "type": "function",
            "description": "Search and browse recipes in the database.",
        },
        {
            "name": "plan_and_apply_recipe_modifications",
            "parameters": RECIPE,
            "strict": True,
            "type": "function",
            "description": "Plan modifications to a recipe based on user request and apply them.",
        },
    ]
    question = {"role": "user", "content": "Can you edit the carbonara recipe to be vegetarian?"}
    tokens = await _input_tokens(
        chat, model="gpt-4o", input=[question, call, result], instructions=instructions, tools=tools
    )
    assert tokens == 310
