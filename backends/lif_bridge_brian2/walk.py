"""Zero-delay synaptic propagation without Brian2's spike queue (``cpp_standalone`` only).

Brian2 delivers a spike by copying the indices of the spiking neuron's synapses into a queue,
then running the ``on_pre`` code for every queued index: per synaptic event one copy and one
extra load of the index, about a third of the paper MLP's run time. For a pathway without
delay whose synapses are created sorted by source (:func:`.synapses.source_major`), the
synapses of source ``j`` are the contiguous range where ``_synaptic_pre == j``; the code object
class here runs the pathway's code on those ranges directly, for each event of the source's
eventspace in order. That is exactly the order the queue delivers them in (sources in the
eventspace's ascending order, each source's synapses in ascending index), so every sum, and
every spike count, is unchanged. The ``on_pre`` code, the variables and their editability are
Brian2's own; only the two templates of the pathway differ (``templates/synapses.cpp``,
``templates/synapses_push_spikes.cpp``). The binary refuses to run, in one line, if the
synapses are no longer sorted by source (synapses added later with ``connect``).

Only a pathway whose code writes post-synaptic variables alone walks (every lif-bridge
projection: ``a_in_post += ...``). With OpenMP threads (``threads=``) its synapses, sorted by
source, then target, are split by target: thread ``k`` runs the synapses onto the ``k``-th
slice of the target group, so each target still adds its inputs in the same order, on one
thread (Brian2's own template runs such a pathway on one thread).

Runtime mode and ``cuda_standalone`` keep Brian2's own propagation (their code object classes
are not the C++ standalone one).
"""

from __future__ import annotations

from typing import Any

import brian2 as b2
from brian2.devices.cpp_standalone.codeobject import CPPStandaloneCodeObject
from brian2.devices.device import get_device
from brian2.parsing.statements import parse_statement

__all__ = ["SourceWalkCodeObject", "enable_walk", "walk_code_object_class"]


class SourceWalkCodeObject(CPPStandaloneCodeObject):  # type: ignore[misc]
    """C++ standalone code object whose ``synapses`` templates walk sorted synapses."""

    templater = CPPStandaloneCodeObject.templater.derive(
        "lif_bridge_brian2", templates_dir="templates"
    )


def walk_code_object_class(source: Any, delay_steps: int, on_pre: str) -> type | None:
    """:class:`SourceWalkCodeObject` where it applies, else ``None`` (Brian2's default).

    It applies to a pathway without delay from a whole group (not a subgroup, whose events are
    indexed in the parent group) on the C++ standalone device itself, whose ``on_pre`` code
    writes post-synaptic variables only (so that threads may split the targets).
    """
    if delay_steps != 0 or isinstance(source, b2.Subgroup):
        return None
    if get_device().code_object_class() is not CPPStandaloneCodeObject:
        return None
    lines = (line for line in on_pre.splitlines() if line.strip())
    if not all(parse_statement(line)[0].endswith("_post") for line in lines):
        return None
    return SourceWalkCodeObject


def enable_walk(synapses: b2.Synapses) -> None:
    """Let a walking ``synapses.pre`` read its source's eventspace (no-op for other classes)."""
    if synapses.codeobj_class is SourceWalkCodeObject:
        synapses.pre.needed_variables.append(synapses.pre.eventspace_name)
