"""The store's compressor: standard zlib streams, so stores written with the library's compressor still read."""

from __future__ import annotations

import zlib

from eventsourcing.compressor import ZlibCompressor
from hypothesis import given
from hypothesis import strategies as st

from application.compression import SMALL_STATE_BYTES, FastZlibCompressor
from application.mapper import MsgspecMapper
from domain.contact import Contact
from interfaces.bootstrap import Container


@given(st.binary(max_size=3 * SMALL_STATE_BYTES))
def test_either_compressor_reads_what_the_other_wrote(data: bytes) -> None:
    assert FastZlibCompressor().decompress(ZlibCompressor().compress(data)) == data
    assert ZlibCompressor().decompress(FastZlibCompressor().compress(data)) == data


def test_the_store_compresses_with_the_small_state_compressor(container: Container) -> None:
    assert type(container.contacts.mapper.compressor) is FastZlibCompressor
    assert type(container.runner.mapper.compressor) is FastZlibCompressor


def test_events_stored_by_the_librarys_compressor_still_load(container: Container) -> None:
    # A store written before this compressor: the same events, compressed by eventsourcing's ZlibCompressor.
    contact = Contact.register("old@example.com", {"plan": "pro"}, "Europe/Paris")
    contact.update({"score": 3})
    old_mapper = MsgspecMapper(compressor=ZlibCompressor())
    stored = [old_mapper.to_stored_event(e) for e in contact.collect_events()]
    assert zlib.decompress(stored[0].state)  # really compressed
    container.contacts.recorder.insert_events(stored)
    loaded = container.contacts.get(contact.id)
    assert (loaded.email, loaded.attributes, loaded.timezone) == (
        "old@example.com", {"plan": "pro", "score": 3}, "Europe/Paris")  # fmt: skip
