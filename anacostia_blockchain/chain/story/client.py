"""A typed client for Story Protocol's core contracts: register IP, register PIL terms, attach them, mint licenses.

The same code talks to Story Aeneid (chain id 1315), Story mainnet (1514), the local ``--story-compat`` devnet (1315,
the suite placed at Story's addresses) and a local deployment recorded in a deployment manifest: only the
:class:`~.addresses.StoryAddresses` differ. Every write goes through :class:`TxSender` (reverts arrive as typed
``CustomContractError`` with Story's error name and arguments); every read through :class:`Contract`.

Writes are idempotent, because pipelines re-run: each write first reads whether its effect already exists
(``isRegistered``, ``getLicenseTermsId``, ``hasIpAttachedLicenseTerms``) and, if a concurrent writer wins the race,
the revert that says "already done" is treated as success. The results say whether this call made the change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ...errors import ConfigurationError, CustomContractError, DeploymentError
from ..abi.contract import Contract
from ..abi.events import EventLog, receipt_events
from ..contracts.deployments import DeploymentManifest
from ..encoding import checksum, to_hex
from ..rpc.client import ChainClient
from ..rpc.receipt import Receipt
from .addresses import StoryAddresses, addresses_for_chain, addresses_from_manifest, ip_id_for
from .terms import ZERO_ADDRESS, PILTerms

if TYPE_CHECKING:
    from ..tx.sender import TxSender


# --- typed results ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IPRegistration:
    ip_id: str
    chain_id: int
    token_contract: str
    token_id: int
    created: bool
    tx_hash: str | None = None


@dataclass(frozen=True)
class TermsRegistration:
    license_terms_id: int
    license_template: str
    created: bool
    tx_hash: str | None = None


@dataclass(frozen=True)
class TermsAttachment:
    ip_id: str
    license_template: str
    license_terms_id: int
    created: bool
    tx_hash: str | None = None


@dataclass(frozen=True)
class LicenseMint:
    licensor_ip_id: str
    license_terms_id: int
    receiver: str
    token_ids: tuple[int, ...]
    fee_paid: int
    currency: str
    tx_hash: str


@dataclass(frozen=True)
class RoyaltyPayment:
    receiver_ip_id: str
    token: str
    amount: int
    vault: str
    tx_hash: str


_ALREADY_REGISTERED = "IPAssetRegistry__AlreadyRegistered"
_ALREADY_ATTACHED = "LicenseRegistry__LicenseTermsAlreadyAttached"


class StoryClient:
    """Story's core calls with typed results. ``sender`` may be None for a read-only client."""

    def __init__(self, client: ChainClient, sender: TxSender | None, addresses: StoryAddresses) -> None:
        self.client = client
        self.sender = sender
        self.addresses = addresses
        self.chain_id = client.chain_id
        self.ip_asset_registry = Contract.at(client, "IPAssetRegistry", addresses.ip_asset_registry)
        self.licensing_module = Contract.at(client, "LicensingModule", addresses.licensing_module)
        self.pil_template = Contract.at(client, "PILicenseTemplate", addresses.pil_license_template)
        self.license_registry = Contract.at(client, "LicenseRegistry", addresses.license_registry)
        self.license_token = Contract.at(client, "LicenseToken", addresses.license_token)
        self.royalty_module = Contract.at(client, "RoyaltyModule", addresses.royalty_module)

    @classmethod
    def for_network(cls, client: ChainClient, sender: TxSender | None = None) -> StoryClient:
        """Story's published addresses for the chain the client is connected to (1315 or 1514)."""
        return cls(client, sender, addresses_for_chain(client.chain_id))

    @classmethod
    def from_manifest(cls, client: ChainClient, sender: TxSender | None, manifest: DeploymentManifest) -> StoryClient:
        return cls(client, sender, addresses_from_manifest(manifest))

    def __repr__(self) -> str:
        return f"StoryClient(chain_id={self.chain_id}, ip_asset_registry={self.addresses.ip_asset_registry})"

    # --- reads --------------------------------------------------------------------------------------------------------
    def ip_id(self, token_contract: str, token_id: int, chain_id: int | None = None) -> str:
        """The ipId the registry reports for an NFT (equals :func:`ip_id_for` with this deployment's addresses)."""
        return str(self.ip_asset_registry.call("ipId", chain_id or self.chain_id, token_contract, token_id))

    def ip_id_offline(self, token_contract: str, token_id: int, chain_id: int | None = None) -> str:
        return ip_id_for(
            chain_id or self.chain_id,
            token_contract,
            token_id,
            implementation=self.addresses.ip_account_impl,
            registry=self.addresses.erc6551_registry,
        )

    def is_registered(self, ip_id: str) -> bool:
        return bool(self.ip_asset_registry.call("isRegistered", ip_id))

    def ip_owner(self, ip_id: str) -> str:
        return str(Contract.at(self.client, "IPAccountImpl", ip_id).call("owner"))

    def license_terms(self, license_terms_id: int) -> PILTerms:
        return PILTerms.from_tuple(self.pil_template.call("getLicenseTerms", license_terms_id))

    def license_terms_id(self, terms: PILTerms) -> int:
        """The id of identical registered terms, 0 when none (after :meth:`with_royalty_policy`)."""
        return int(self.pil_template.call("getLicenseTermsId", self.with_royalty_policy(terms).as_tuple()))

    def with_royalty_policy(self, terms: PILTerms) -> PILTerms:
        """Story requires a royalty policy for commercial terms: commercial terms that name none get this
        deployment's RoyaltyPolicyLAP (where it has one); all other terms are returned unchanged."""
        lap = self.addresses.royalty_policy_lap
        if terms.commercial_use and int(terms.royalty_policy, 16) == 0 and int(lap, 16) != 0:
            return terms.with_changes(royalty_policy=lap)
        return terms

    def has_terms(self, ip_id: str, license_terms_id: int) -> bool:
        return bool(
            self.license_registry.call(
                "hasIpAttachedLicenseTerms", ip_id, self.addresses.pil_license_template, license_terms_id
            )
        )

    def royalty_vault(self, ip_id: str) -> str:
        return str(self.royalty_module.call("ipRoyaltyVaults", ip_id))

    def predict_minting_fee(self, licensor_ip_id: str, license_terms_id: int, amount: int = 1) -> tuple[str, int]:
        currency, fee = self.licensing_module.call(
            "predictMintingLicenseFee",
            licensor_ip_id,
            self.addresses.pil_license_template,
            license_terms_id,
            amount,
            self.sender.signer.address if self.sender is not None else licensor_ip_id,  # any non-zero receiver
            b"",
            caller=self.sender.signer.address if self.sender is not None else None,  # the owner may mint any terms
        )
        return checksum(currency), int(fee)

    # --- writes -------------------------------------------------------------------------------------------------------
    def register_ip(self, token_contract: str, token_id: int, chain_id: int | None = None) -> IPRegistration:
        """Register an NFT as an IP asset; an NFT already registered returns its ipId with ``created=False``."""
        chain = chain_id or self.chain_id
        token_contract = checksum(token_contract)
        ip_id = self.ip_id(token_contract, token_id, chain)
        if self.is_registered(ip_id):
            return IPRegistration(ip_id, chain, token_contract, token_id, created=False)
        try:
            receipt = self._sender().transact(self.ip_asset_registry, "register", chain, token_contract, token_id)
        except CustomContractError as exc:
            if exc.error_name != _ALREADY_REGISTERED:
                raise
            return IPRegistration(ip_id, chain, token_contract, token_id, created=False)
        event = self._event(receipt, self.ip_asset_registry, "IPRegistered")
        return IPRegistration(str(event.args["ipId"]), chain, token_contract, token_id, True, _tx(receipt))

    def register_pil_terms(self, terms: PILTerms) -> TermsRegistration:
        """Register terms (identical terms already registered return their id with ``created=False``); commercial
        terms without a royalty policy are registered with this deployment's LAP (:meth:`with_royalty_policy`)."""
        template = self.addresses.pil_license_template
        terms = self.with_royalty_policy(terms)
        existing = self.license_terms_id(terms)
        if existing:
            return TermsRegistration(existing, template, created=False)
        receipt = self._sender().transact(self.pil_template, "registerLicenseTerms", terms.as_tuple())
        logs = receipt_events(self.pil_template, receipt, "LicenseTermsRegistered")
        if not logs:  # registered by someone else between our read and our write: the template deduplicated
            return TermsRegistration(self.license_terms_id(terms), template, False, _tx(receipt))
        return TermsRegistration(int(logs[0].args["licenseTermsId"]), template, True, _tx(receipt))

    def attach_terms(self, ip_id: str, license_terms_id: int) -> TermsAttachment:
        """Attach registered terms to an IP (the sender must own the IP); already attached -> ``created=False``."""
        template = self.addresses.pil_license_template
        if self.has_terms(ip_id, license_terms_id):
            return TermsAttachment(ip_id, template, license_terms_id, created=False)
        try:
            receipt = self._sender().transact(
                self.licensing_module, "attachLicenseTerms", ip_id, template, license_terms_id
            )
        except CustomContractError as exc:
            if exc.error_name != _ALREADY_ATTACHED:
                raise
            return TermsAttachment(ip_id, template, license_terms_id, created=False)
        return TermsAttachment(ip_id, template, license_terms_id, True, _tx(receipt))

    def mint_license_tokens(
        self,
        licensor_ip_id: str,
        license_terms_id: int,
        *,
        amount: int = 1,
        receiver: str | None = None,
        max_minting_fee: int = 0,
        max_revenue_share_units: int = 0,
        approve_fee: bool = True,
    ) -> LicenseMint:
        """Mint license tokens; the fee (``defaultMintingFee * amount`` in the terms' currency) is paid by the sender.

        ``max_minting_fee`` (currency base units) and ``max_revenue_share_units`` (Story's scale, 100 % =
        100_000_000) make the call revert when the terms cost more; 0 means no limit. With ``approve_fee`` the sender
        first approves the RoyaltyModule for exactly the missing allowance. Not idempotent by nature (each call is
        a purchase): callers that must not buy twice record the result first.
        """
        if amount <= 0:
            raise ConfigurationError(f"amount must be positive, got {amount}")
        sender = self._sender()
        receiver = checksum(receiver or sender.signer.address)
        currency, fee = self.predict_minting_fee(licensor_ip_id, license_terms_id, amount)
        if fee and approve_fee:
            self._ensure_allowance(currency, self.addresses.royalty_module, fee)
        receipt = sender.transact(
            self.licensing_module,
            "mintLicenseTokens",
            licensor_ip_id,
            self.addresses.pil_license_template,
            license_terms_id,
            amount,
            receiver,
            b"",
            max_minting_fee,
            max_revenue_share_units,
        )
        event = self._event(receipt, self.licensing_module, "LicenseTokensMinted")
        start = int(event.args["startLicenseTokenId"])
        return LicenseMint(
            licensor_ip_id, license_terms_id, receiver, tuple(range(start, start + amount)), fee, currency, _tx(receipt)
        )

    def register_derivative(
        self,
        child_ip_id: str,
        parent_ip_ids: Sequence[str],
        license_terms_ids: Sequence[int],
        *,
        max_minting_fee: int = 0,
        max_revenue_share_units: int = 0,
        approve_fee: bool = True,
    ) -> str:
        """Link ``child_ip_id`` to its parents under their attached terms, paying each parent's minting fee."""
        if approve_fee:
            totals: dict[str, int] = {}
            for parent, terms_id in zip(parent_ip_ids, license_terms_ids, strict=True):
                currency, fee = self.predict_minting_fee(parent, terms_id, 1)
                if fee:
                    totals[currency] = totals.get(currency, 0) + fee
            for currency, total in totals.items():
                self._ensure_allowance(currency, self.addresses.royalty_module, total)
        receipt = self._sender().transact(
            self.licensing_module,
            "registerDerivative",
            child_ip_id,
            list(parent_ip_ids),
            list(license_terms_ids),
            self.addresses.pil_license_template,
            b"",
            max_minting_fee,
            0,
            max_revenue_share_units,
        )
        return _tx(receipt)

    def register_derivative_with_license_tokens(self, child_ip_id: str, license_token_ids: Sequence[int]) -> str:
        """Make ``child_ip_id`` a derivative of the licensors of license tokens the sender holds (they are burned)."""
        receipt = self._sender().transact(
            self.licensing_module, "registerDerivativeWithLicenseTokens", child_ip_id, list(license_token_ids), b"", 0
        )
        return _tx(receipt)

    def pay_royalty(
        self, receiver_ip_id: str, token: str, amount: int, payer_ip_id: str = ZERO_ADDRESS
    ) -> RoyaltyPayment:
        """Pay ``amount`` of ERC-20 ``token`` to the receiver IP (approves the module as needed). The share its
        royalty policies owe the IP's ancestors goes to the policies, the rest into the IP's royalty vault, which is
        deployed first when the IP has none yet (Story refuses payments to an IP without a vault)."""
        if not self.royalty_module.call("isWhitelistedRoyaltyToken", token):
            raise ConfigurationError(f"{token} is not a whitelisted royalty token of the RoyaltyModule on this chain")
        if int(self.royalty_vault(receiver_ip_id), 16) == 0:
            self._sender().transact(self.royalty_module, "deployVault", receiver_ip_id)
        self._ensure_allowance(token, self.addresses.royalty_module, amount)
        receipt = self._sender().transact(
            self.royalty_module, "payRoyaltyOnBehalf", receiver_ip_id, payer_ip_id, token, amount
        )
        return RoyaltyPayment(
            receiver_ip_id, checksum(token), amount, self.royalty_vault(receiver_ip_id), _tx(receipt)
        )

    # --- helpers ------------------------------------------------------------------------------------------------------
    def _sender(self) -> TxSender:
        if self.sender is None:
            raise ConfigurationError("this StoryClient is read-only: pass a TxSender to write")
        return self.sender

    def _ensure_allowance(self, token: str, spender: str, amount: int) -> None:
        sender = self._sender()
        erc20 = Contract.at(self.client, "MockERC20", token)  # only the standard ERC-20 functions are used
        if int(erc20.call("allowance", sender.signer.address, spender)) < amount:
            sender.transact(erc20, "approve", spender, amount)

    def _event(self, receipt: Receipt, contract: Contract, name: str) -> EventLog:
        logs = receipt_events(contract, receipt, name)
        if not logs:
            raise DeploymentError(
                f"{contract.name} at {contract.address} did not emit {name}: is this Story's contract on this chain?"
            )
        return logs[0]


def _tx(receipt: Receipt) -> str:
    value = receipt.transactionHash
    return value if isinstance(value, str) else to_hex(value)
