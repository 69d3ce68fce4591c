"""Region labels as bills spell them, mapped to region codes (after aggregation, never per row).

AWS writes a region three ways: a code (`us-west-2`), a usage-type prefix (`USW2`) and a
location name (`US West (Oregon)`). Flows are merged once all three read the same.
"""

from __future__ import annotations

# code, usage-type prefix, location names
_AWS = (
    ("us-east-1", "USE1", ("US East (N. Virginia)", "US East (Northern Virginia)")),
    ("us-east-2", "USE2", ("US East (Ohio)",)),
    ("us-west-1", "USW1", ("US West (N. California)", "US West (Northern California)")),
    ("us-west-2", "USW2", ("US West (Oregon)",)),
    ("ca-central-1", "CAN1", ("Canada (Central)",)),
    ("ca-west-1", "CAN2", ("Canada West (Calgary)",)),
    ("sa-east-1", "SAE1", ("South America (Sao Paulo)", "South America (São Paulo)")),
    ("eu-west-1", "EU", ("EU (Ireland)", "Europe (Ireland)")),
    ("eu-west-2", "EUW2", ("EU (London)", "Europe (London)")),
    ("eu-west-3", "EUW3", ("EU (Paris)", "Europe (Paris)")),
    ("eu-central-1", "EUC1", ("EU (Frankfurt)", "EU (Germany)", "Europe (Frankfurt)")),
    ("eu-central-2", "EUC2", ("EU (Zurich)", "Europe (Zurich)")),
    ("eu-north-1", "EUN1", ("EU (Stockholm)", "Europe (Stockholm)")),
    ("eu-south-1", "EUS1", ("EU (Milan)", "Europe (Milan)")),
    ("eu-south-2", "EUS2", ("EU (Spain)", "Europe (Spain)")),
    ("ap-northeast-1", "APN1", ("Asia Pacific (Tokyo)",)),
    ("ap-northeast-2", "APN2", ("Asia Pacific (Seoul)",)),
    ("ap-northeast-3", "APN3", ("Asia Pacific (Osaka)", "Asia Pacific (Osaka-Local)")),
    ("ap-southeast-1", "APS1", ("Asia Pacific (Singapore)",)),
    ("ap-southeast-2", "APS2", ("Asia Pacific (Sydney)",)),
    ("ap-southeast-3", "APS4", ("Asia Pacific (Jakarta)",)),
    ("ap-south-1", "APS3", ("Asia Pacific (Mumbai)",)),
    ("ap-south-2", "APS5", ("Asia Pacific (Hyderabad)",)),
    ("ap-east-1", "APE1", ("Asia Pacific (Hong Kong)",)),
    ("me-south-1", "MES1", ("Middle East (Bahrain)",)),
    ("me-central-1", "MEC1", ("Middle East (UAE)",)),
    ("af-south-1", "AFS1", ("Africa (Cape Town)",)),
    ("il-central-1", "ILC1", ("Israel (Tel Aviv)",)),
)

_LOOKUP: dict[str, str] = {}
for code, prefix, names in _AWS:
    _LOOKUP[code.lower()] = code
    _LOOKUP[prefix.lower()] = code
    for name in names:
        _LOOKUP[name.lower()] = code


def normalise(label: str | None) -> str:
    """A region code where one is known, else the label as the bill wrote it."""
    if not label:
        return "unknown"
    text = label.strip().rstrip(".")
    return _LOOKUP.get(text.lower(), text)
