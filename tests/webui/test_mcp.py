"""The app as an MCP server for agents: ``python app.py --mcp`` (or Gradio's GRADIO_MCP_SERVER=true).

Through the ``mcp`` Python client over streamable HTTP, as an agent connects: the public endpoints are the tools,
each described (what it computes, what every parameter means), private and debug endpoints are not; classify on a
photo gives the top-5, images come back as MCP image content, and the endpoints that keep a state on the page work
as tools too.
"""

from __future__ import annotations

import ast
import asyncio
import base64
import json
import urllib.request

import pytest

from support import ROOT

PHOTO = ROOT / "assets" / "chelsea.png"
TOOLS = {"classify", "branches", "attribute", "compare_attributions", "sanity_check", "attribute_branches",
         "aux_heads", "report", "feature_visualization", "class_visualization", "dataset_examples", "top5"}
IMAGELESS = {"feature_visualization", "class_visualization"}  # they optimize an image: they take none


@pytest.fixture(scope="module")
def mcp_app(tmp_path_factory, weights_file):
    pytest.importorskip("mcp", reason="the mcp extra: pip install 'gradio[mcp]' (requirements.txt)")
    from bench.launcher import launched_app

    # debug endpoints on too: they must stay out of the tools even then
    with launched_app(tmp_path_factory.mktemp("mcp"), weights_file, extra_args=["--mcp"],
                      debug_endpoints=True) as server:
        yield server


def run_session(url: str, work):
    """Run ``work(session)`` in an MCP client session on the app's streamable HTTP endpoint."""
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async def main():
        async with streamable_http_client(url + "gradio_api/mcp/") as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                return await work(session)

    return asyncio.run(main())


def data_uri(path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def test_the_public_endpoints_are_the_tools_and_each_is_described(mcp_app):
    async def work(session):
        return (await session.list_tools()).tools

    tools = {tool.name: tool for tool in run_session(mcp_app.url, work)}
    assert set(tools) == TOOLS, sorted(tools)  # no private event, no debug endpoint, no page-only event
    for name, tool in tools.items():
        assert len(tool.description) > 80 and "Returns:" in tool.description, (name, tool.description)
        properties = tool.inputSchema["properties"]
        assert ("image" in properties) is (name not in IMAGELESS), name
        undescribed = [p for p, schema in properties.items() if not schema.get("description")]
        assert not undescribed, (name, undescribed)  # every parameter's meaning is told to the agent
        assert not {"request", "progress", "lang"} & set(properties), name
    assert "untrained" in tools["aux_heads"].description
    assert "top1" in tools["attribute"].inputSchema["properties"]["target"]["description"]
    with urllib.request.urlopen(mcp_app.url + "gradio_api/mcp/schema", timeout=30) as response:
        schema = json.load(response)
    assert {tool["name"] for tool in schema} == TOOLS


def test_classify_as_a_tool_gives_the_top5_and_the_crop_as_an_image(mcp_app):
    async def work(session):
        return await session.call_tool("classify", {"image": data_uri(PHOTO), "with_crop": True})

    result = run_session(mcp_app.url, work)
    assert not result.isError, result.content
    images = [c for c in result.content if c.type == "image"]
    texts = [c.text for c in result.content if c.type == "text"]
    assert len(images) == 1 and images[0].mimeType.startswith("image/")
    from io import BytesIO

    from PIL import Image

    with Image.open(BytesIO(base64.b64decode(images[0].data))) as crop:
        assert crop.size == (224, 224)  # what the network saw
    raw = next(ast.literal_eval(t) for t in texts if t.startswith("{") and "'top'" in t)
    assert len(raw["top"]) == 5 and all(0 <= s["probability"] <= 1 for s in raw["top"])
    label = next(ast.literal_eval(t) for t in texts if t.startswith("{") and "confidences" in t)
    assert [c["label"] for c in label["confidences"]] == [s["name"] for s in raw["top"]]


def test_tools_of_stateful_page_events_work(mcp_app):
    """/branches and /attribute_branches keep a gr.State on the page; as tools they have none (a State output
    breaks Gradio's MCP server: "pop index out of range")."""

    async def work(session):
        branches = await session.call_tool("branches", {"image": data_uri(PHOTO), "module": "inception5b"})
        attribution = await session.call_tool("attribute_branches", {"image": data_uri(PHOTO)})
        return branches, attribution

    branches, attribution = run_session(mcp_app.url, work)
    for result in (branches, attribution):
        assert not result.isError, result.content
    assert sum(c.type == "image" for c in branches.content) == 3  # overview, heatmaps, channels
    assert sum(c.type == "image" for c in attribution.content) == 2  # matrix, the module's branch maps
    assert any("inception5b" in c.text for c in branches.content if c.type == "text")


def test_mcp_follows_the_settings():
    from webui.settings import Settings

    assert not Settings.from_env({}).mcp_server
    assert Settings.from_env({"GRADIO_MCP_SERVER": "True"}).mcp_server  # Gradio's own switch, its own rule
    assert Settings.from_env({}).with_argv(["--mcp"]).mcp_server
    from webui.server import launch_options

    assert launch_options(Settings(mcp_server=True))["mcp_server"] is True
    assert launch_options(Settings())["mcp_server"] is False
