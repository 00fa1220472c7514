"""``RegisterIPNode``: register a model NFT as a Story Protocol IP asset and offer it under PIL license terms.

Per execution the node takes one model token that is not fully published on Story yet (:meth:`select_token`: the
oldest token held by the node's account that is unregistered, or registered without the configured terms attached),
then makes the three idempotent Story calls — ``register`` (IPAssetRegistry), ``registerLicenseTerms``
(PILicenseTemplate), ``attachLicenseTerms`` (LicensingModule) — and records the outcome in the metadata store: the
terms configuration as params (``story_terms_*``) and the ipId, terms id, template and transaction hashes as tags
(``story_*``). :attr:`published` keeps the node's own typed results.

Why a re-run or a restart is safe: what is left to do is derived from the chain (``isRegistered`` and
``hasIpAttachedLicenseTerms``), and each Story write first checks whether its effect already exists, so an attempt
interrupted between two calls (an RPC outage, a crash) finishes the remaining calls on the next execution, and
nothing is registered or attached twice. The terms are deduplicated by the template, so the same configuration
always maps to the same terms id.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..chain.contracts import ModelNFTClient
from ..chain.story import IPRegistration, PILTerms, StoryClient, TermsAttachment, TermsRegistration
from ..engine import BaseActionNode, BaseNode
from ..errors import ConfigurationError


@dataclass(frozen=True)
class PublishedIP:
    """What one execution did for one model token (``created`` flags say which calls changed the chain)."""

    token_id: int
    registration: IPRegistration
    terms: TermsRegistration
    attachment: TermsAttachment

    @property
    def ip_id(self) -> str:
        return self.registration.ip_id

    @property
    def license_terms_id(self) -> int:
        return self.terms.license_terms_id


class RegisterIPNode(BaseActionNode):
    """Register model NFTs as Story IP assets with configurable PIL terms (see the module docstring)."""

    def __init__(
        self,
        name: str,
        predecessors: Sequence[BaseNode],
        *,
        story: StoryClient,
        model_nft: ModelNFTClient,
        terms: PILTerms,
        loggers: logging.Logger | Iterable[logging.Logger] | None = None,
        **retry: Any,
    ) -> None:
        super().__init__(name, predecessors, loggers, **retry)
        if story.sender is None:
            raise ConfigurationError(f"{name}: the StoryClient needs a TxSender (the account holding the model NFTs)")
        self.story = story
        self.model_nft = model_nft
        self.terms = terms
        self.published: list[PublishedIP] = []

    # --- hooks a subclass may override ---------------------------------------------------------------------------
    def license_terms(self) -> PILTerms:
        """The PIL terms to offer (override to derive them, e.g. from the run's metrics)."""
        return self.terms

    def candidate_tokens(self) -> Iterable[int]:
        """Model tokens to consider, oldest first (ModelNFT ids start at 1)."""
        return range(1, self.model_nft.total_minted() + 1)

    def select_token(self, terms_id: int) -> int | None:
        """The oldest token we hold whose IP is unregistered or lacks the terms (``None`` = nothing to do)."""
        account = self.story.sender.signer.address  # type: ignore[union-attr]
        for token_id in self.candidate_tokens():
            if self.model_nft.owner_of(token_id) != account:
                continue
            ip_id = self.story.ip_id(self.model_nft.address, token_id)
            if not self.story.is_registered(ip_id) or not terms_id or not self.story.has_terms(ip_id, terms_id):
                return token_id
        return None

    # --- the job -------------------------------------------------------------------------------------------------
    def execute(self, *args: Any, **kwargs: Any) -> bool:
        terms = self.license_terms()
        token_id = self.select_token(self.story.license_terms_id(terms))
        if token_id is None:
            self.log("every model NFT we hold is already a Story IP asset with these terms")
            return True
        published = self.publish(token_id, terms)
        self.record(published, terms)
        return True

    def publish(self, token_id: int, terms: PILTerms) -> PublishedIP:
        """Register ``token_id``, register the terms and attach them (each step a no-op when already done)."""
        registration = self.story.register_ip(self.model_nft.address, token_id)
        registered_terms = self.story.register_pil_terms(terms)
        attachment = self.story.attach_terms(registration.ip_id, registered_terms.license_terms_id)
        published = PublishedIP(token_id, registration, registered_terms, attachment)
        self.published.append(published)
        self.log(
            f"model token {token_id}: ipId {registration.ip_id} (new: {registration.created}), "
            f"terms {registered_terms.license_terms_id} (new: {registered_terms.created}), "
            f"attached (new: {attachment.created})"
        )
        return published

    def record(self, published: PublishedIP, terms: PILTerms) -> None:
        """Write the outcome to the current run: terms as params, Story ids and transactions as tags."""
        store = self.coordinator.store
        store.log_params(
            story_terms_commercial_use=terms.commercial_use,
            story_terms_derivatives_allowed=terms.derivatives_allowed,
            story_terms_minting_fee=str(terms.default_minting_fee),
            story_terms_currency=terms.currency,
            story_terms_rev_share=terms.commercial_rev_share,
            story_terms_uri=terms.uri,
        )
        store.set_tags(
            story_chain_id=self.story.chain_id,
            story_token_contract=self.model_nft.address,
            story_token_id=published.token_id,
            story_ip_id=published.ip_id,
            story_license_template=published.terms.license_template,
            story_license_terms_id=published.license_terms_id,
            story_register_tx=published.registration.tx_hash or "",
            story_terms_tx=published.terms.tx_hash or "",
            story_attach_tx=published.attachment.tx_hash or "",
        )
