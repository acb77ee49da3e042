"""The photo index: for every channel of all 36 branches, the photos (and where in them) it fires most.

``python -m googlenet index-photos DIR --out INDEX`` builds one (:func:`index_folder`; resumable, shardable with
``--shard i/n``), ``index-photos --merge A B --out C`` merges shards (:func:`merge_indexes`), and the app reads one
with ``--photo-index INDEX`` to show a unit's dataset examples (:mod:`.examples`). The file format is documented in
:mod:`.store` and docs/dataset-examples.md.
"""

from .build import BuildResult, IndexSettings, checkpoint_path, index_folder, index_layout, index_photos, list_photos
from .examples import (Box, Example, FiringMap, UnitGeometry, crop_at, firing_map, index_entries, index_examples,
                       ranked, top_positions, unit_geometry)
from .store import (DEFAULT_K, FORMAT, VERSION, BranchSlot, PhotoIndex, PhotoIndexError, load_index, merge_indexes,
                    save_index)
from .topk import TopK, photo_maxima

__all__ = [
    "BuildResult", "IndexSettings", "checkpoint_path", "index_folder", "index_layout", "index_photos", "list_photos",
    "Box", "Example", "FiringMap", "UnitGeometry", "crop_at", "firing_map", "index_entries", "index_examples",
    "ranked", "top_positions", "unit_geometry",
    "DEFAULT_K", "FORMAT", "VERSION", "BranchSlot", "PhotoIndex", "PhotoIndexError", "load_index", "merge_indexes",
    "save_index", "TopK", "photo_maxima",
]
