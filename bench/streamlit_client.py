"""A minimal Streamlit websocket client: one student's session without a browser.

It speaks the protocol the Streamlit frontend speaks (protobuf BackMsg and
ForwardMsg over /_stcore/stream): ask for a page run, read the elements the
script sends, and press a button by sending its trigger. It draws nothing, so
30 of them cost the load generator almost no CPU, and the class-load benchmark
measures the server rather than 30 Chromium renderers sharing its two cores.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Optional

import websockets
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState


@dataclass
class ScriptRun:
    """What one script run sent: its buttons by label, the metric labels, alert texts and any exception."""

    buttons: dict[str, str] = field(default_factory=dict)  # label -> widget id
    metrics: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # bodies of st.error, st.warning, st.info, st.success
    errors: list[str] = field(default_factory=list)  # bodies of st.error alone
    exception: Optional[str] = None


class StreamlitSession:
    """One websocket session of a Streamlit app, opened on a page with a query string."""

    def __init__(self, url: str, page: str, query: str = ""):
        self.url, self.page, self.query = url, page, query.lstrip("?")
        self.socket = None

    async def __aenter__(self) -> "StreamlitSession":
        # The server checks the Origin header against its own address, as for a browser.
        self.socket = await websockets.connect(
            self.url.replace("http://", "ws://") + "/_stcore/stream", subprotocols=["streamlit"],
            origin=self.url, max_size=None, open_timeout=120,
        )
        return self

    async def __aexit__(self, *exc) -> None:
        await self.socket.close()

    async def run(self, widget_states: tuple[WidgetState, ...] = (), until_metric: Optional[str] = None,
                  timeout: float = 600) -> ScriptRun:
        """Ask for a script run and read its messages until it finishes.

        Args:
            widget_states: widget values to send, e.g. a button's trigger.
            until_metric: keep reading across runs until a metric with this label (or an st.error) arrives.
            timeout: seconds before giving up.
        Returns:
            the ScriptRun seen (the last one when until_metric made it read several).
        """
        message = BackMsg()
        message.rerun_script.query_string = self.query
        message.rerun_script.page_name = self.page
        message.rerun_script.widget_states.widgets.extend(widget_states)
        await self.socket.send(message.SerializeToString())
        deadline = time.monotonic() + timeout
        seen = ScriptRun()
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no finished run with {until_metric or 'the page'} within {timeout:.0f} s")
            forward = ForwardMsg()
            forward.ParseFromString(await _receive(self.socket, remaining))
            kind = forward.WhichOneof("type")
            if kind == "delta" and forward.delta.WhichOneof("type") == "new_element":
                _record(forward.delta.new_element, seen)
            elif kind == "script_finished":
                # An st.error (a refused run, a stopped worker) ends the wait too: no metric will come.
                if until_metric is None or until_metric in seen.metrics or seen.exception or seen.errors:
                    return seen


async def _receive(socket, timeout: float) -> bytes:
    import asyncio

    return await asyncio.wait_for(socket.recv(), timeout=timeout)


def _record(element, seen: ScriptRun) -> None:
    kind = element.WhichOneof("type")
    if kind == "button":
        seen.buttons[element.button.label] = element.button.id
    elif kind == "metric":
        seen.metrics.append(element.metric.label)
    elif kind == "alert":
        seen.texts.append(element.alert.body)
        if element.alert.format == Alert.ERROR:
            seen.errors.append(element.alert.body)
    elif kind == "exception":
        seen.exception = f"{element.exception.type}: {element.exception.message}"


def trigger(widget_id: str) -> WidgetState:
    """The widget state of a pressed button.

    Args:
        widget_id: the button's id, from ScriptRun.buttons.
    Returns:
        a WidgetState with trigger_value set.
    """
    state = WidgetState(id=widget_id)
    state.trigger_value = True
    return state
