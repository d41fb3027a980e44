"""One company's result, explained: points per item, level and why, tier and why, its standing
among peers, and the changes worth most points next."""

from dmi.results.assess import Assessment, NodeScore, assess
from dmi.results.peers import PEER_FORMAT, PeerBenchmark, PeerPosition
from dmi.results.recommend import Candidate, Improvement, improvements

__all__ = [
    "PEER_FORMAT",
    "Assessment",
    "Candidate",
    "Improvement",
    "NodeScore",
    "PeerBenchmark",
    "PeerPosition",
    "assess",
    "improvements",
]
