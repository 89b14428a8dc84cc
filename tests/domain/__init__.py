from pathlib import Path

#: Two plain rewordings of each starter-pack question, which the pack must answer.
REWORDINGS_PATH = Path(__file__).parent / "faq_pack_rewordings.json"
