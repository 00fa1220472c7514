"""Story Protocol: IP registration, PIL license terms, license tokens and royalties on Story's core contracts.

- :mod:`.addresses` — :class:`StoryAddresses` per network (Aeneid, mainnet) or from a deployment manifest,
  :data:`AENEID_CONTRACTS` (every address Story's SDKs know on Aeneid, :func:`aeneid`) and :func:`ip_id_for` (an
  IP's ERC-6551 account, computed offline);
- :mod:`.client` — :class:`StoryClient`: typed, idempotent writes and reads;
- :mod:`.terms` — :class:`PILTerms` (Story's 17-field struct) and the presets Story's SDKs offer;
- :mod:`.license_token` — :class:`LicenseTokenClient`: batched reads of license ownership, licensor and revocation.
"""

from .addresses import (
    AENEID_CHAIN_ID,
    AENEID_CONTRACTS,
    ERC6551_REGISTRY,
    MAINNET_CHAIN_ID,
    MANIFEST_NAMES,
    STORY_NETWORKS,
    UNSUPPORTED,
    StoryAddresses,
    addresses_for_chain,
    addresses_from_manifest,
    aeneid,
    ip_id_for,
)
from .client import (
    IPRegistration,
    LicenseMint,
    RoyaltyPayment,
    StoryClient,
    TermsAttachment,
    TermsRegistration,
)
from .license_token import LicenseTokenClient, LicenseTokenState
from .terms import (
    MAX_REVENUE_SHARE,
    PIL_URIS,
    PRESETS,
    ZERO_ADDRESS,
    PILTerms,
    commercial_remix,
    commercial_use,
    non_commercial_social_remixing,
    revenue_share_units,
    terms_from_config,
)

__all__ = [
    "AENEID_CHAIN_ID",
    "AENEID_CONTRACTS",
    "ERC6551_REGISTRY",
    "MAINNET_CHAIN_ID",
    "MANIFEST_NAMES",
    "MAX_REVENUE_SHARE",
    "PIL_URIS",
    "PRESETS",
    "STORY_NETWORKS",
    "UNSUPPORTED",
    "ZERO_ADDRESS",
    "IPRegistration",
    "LicenseMint",
    "LicenseTokenClient",
    "LicenseTokenState",
    "PILTerms",
    "RoyaltyPayment",
    "StoryAddresses",
    "StoryClient",
    "TermsAttachment",
    "TermsRegistration",
    "addresses_for_chain",
    "addresses_from_manifest",
    "aeneid",
    "commercial_remix",
    "commercial_use",
    "ip_id_for",
    "non_commercial_social_remixing",
    "revenue_share_units",
    "terms_from_config",
]
