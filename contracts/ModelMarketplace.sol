// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {
    IMarketplaceIPAssetRegistry,
    IMarketplaceLicenseRegistry,
    IMarketplaceLicensingModule
} from "./interfaces/IMarketplaceLicensing.sol";

/// @title ModelMarketplace — sell licenses to model NFTs for ETH at a USD price, converted through Chainlink.
/// @notice Prices are USD with 18 decimals (1 USD = 1e18), the same scale as anchored metric values, so a pricing
///         rule can map a metric to a price without rescaling. `quote()` converts to wei with the ETH/USD
///         AggregatorV3Interface feed, applying Chainlink's consumer checks (answer > 0, updatedAt within the
///         heartbeat, optional L2 sequencer uptime feed with a grace period), rounding up so the seller is never
///         short-changed. `buy()` takes ETH, refunds any excess and mints one Story license token to the buyer
///         through the LicensingModule: the purchase is the license. The NFT itself never moves.
/// @dev The listed license terms must carry no Story minting fee (maxMintingFee is passed as 0): the marketplace
///      price is the fee. Seller proceeds accrue and are withdrawn by pull payment; buy/withdraw are nonReentrant
///      and follow checks-effects-interactions. A listing is only valid while the lister still owns the NFT.
///      Roles: DEFAULT_ADMIN_ROLE configures the feed; PRICER_ROLE (e.g. a DynamicPricingNode's key) may reprice any
///      listing; otherwise only the lister may reprice or delist.
contract ModelMarketplace is AccessControl, ReentrancyGuard {
    bytes32 public constant PRICER_ROLE = keccak256("PRICER_ROLE");
    /// @notice Decimals of every USD amount in this contract.
    uint8 public constant PRICE_DECIMALS = 18;
    /// @notice Story's 100% for maxRevenueShare (1e6 * 100): the listed terms decide the share, not the buyer.
    uint32 public constant MAX_REVENUE_SHARE = 100_000_000;

    struct Listing {
        address seller;
        uint64 licenseTermsId;
        bool active;
        address ipId;
        uint256 priceUsd;
    }

    struct FeedConfig {
        AggregatorV3Interface feed;
        uint32 heartbeat;
        AggregatorV3Interface sequencerUptimeFeed;
        uint32 gracePeriod;
    }

    IERC721 public immutable modelNFT;
    IMarketplaceIPAssetRegistry public immutable ipAssetRegistry;
    IMarketplaceLicensingModule public immutable licensingModule;
    address public immutable licenseTemplate;

    FeedConfig private _feed;
    mapping(uint256 tokenId => Listing) private _listings;
    mapping(address seller => uint256 weiAmount) public proceeds;

    event FeedConfigured(address indexed feed, uint32 heartbeat, address indexed sequencerUptimeFeed, uint32 gracePeriod);
    event Listed(
        uint256 indexed tokenId,
        address indexed seller,
        address indexed ipId,
        uint256 licenseTermsId,
        uint256 priceUsd,
        bytes32 basis
    );
    event PriceUpdated(uint256 indexed tokenId, uint256 oldPriceUsd, uint256 newPriceUsd, address indexed by, bytes32 basis);
    event Delisted(uint256 indexed tokenId, address indexed by);
    event Purchased(
        uint256 indexed tokenId,
        address indexed buyer,
        address indexed seller,
        uint256 priceUsd,
        uint256 paidWei,
        uint256 refundWei,
        uint256 licenseTokenId
    );
    event ProceedsWithdrawn(address indexed seller, uint256 weiAmount);

    error ZeroAddress();
    error ZeroHeartbeat();
    error ZeroPrice();
    error NotTokenOwner(uint256 tokenId, address caller);
    error IpNotRegistered(uint256 tokenId, address ipId);
    error AlreadyListed(uint256 tokenId);
    error NotListed(uint256 tokenId);
    error NotListerOrPricer(uint256 tokenId, address caller);
    error NotListerOrAdmin(uint256 tokenId, address caller);
    error LicenseTermsHaveMintingFee(uint256 licenseTermsId, address currency, uint256 fee);
    error LicenseTermsNotAttached(uint256 tokenId, address ipId, uint256 licenseTermsId);
    error ListingOwnerChanged(uint256 tokenId, address seller, address owner);
    error InsufficientPayment(uint256 requiredWei, uint256 sentWei);
    error InvalidPrice(int256 answer);
    error StalePrice(uint256 updatedAt, uint256 heartbeat, uint256 nowTimestamp);
    error SequencerDown();
    error GracePeriodNotOver(uint256 sequencerUpSince, uint256 gracePeriod);
    error NothingToWithdraw(address seller);

    constructor(
        address admin,
        IERC721 nft,
        IMarketplaceIPAssetRegistry registry,
        IMarketplaceLicensingModule licensing,
        address template,
        AggregatorV3Interface ethUsdFeed,
        uint32 heartbeat
    ) {
        if (
            admin == address(0) || address(nft) == address(0) || address(registry) == address(0)
                || address(licensing) == address(0) || template == address(0)
        ) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        modelNFT = nft;
        ipAssetRegistry = registry;
        licensingModule = licensing;
        licenseTemplate = template;
        _configureFeed(ethUsdFeed, heartbeat, AggregatorV3Interface(address(0)), 0);
    }

    // --- configuration -------------------------------------------------------------------------------------------

    /// @notice Point at another ETH/USD feed, heartbeat, and optional L2 sequencer uptime feed (address(0) = none).
    function configureFeed(
        AggregatorV3Interface ethUsdFeed,
        uint32 heartbeat,
        AggregatorV3Interface sequencerUptimeFeed,
        uint32 gracePeriod
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _configureFeed(ethUsdFeed, heartbeat, sequencerUptimeFeed, gracePeriod);
    }

    function feedConfig() external view returns (FeedConfig memory) {
        return _feed;
    }

    // --- listings ------------------------------------------------------------------------------------------------

    /// @notice List a model NFT the caller owns; its Story IP account must be registered and `licenseTermsId`
    ///         attached to it (with no Story minting fee). `basis` is what the price was derived from (see setPrice).
    function list(uint256 tokenId, uint256 priceUsd, uint256 licenseTermsId, bytes32 basis) external {
        if (priceUsd == 0) revert ZeroPrice();
        if (modelNFT.ownerOf(tokenId) != msg.sender) revert NotTokenOwner(tokenId, msg.sender);
        if (_listings[tokenId].active) revert AlreadyListed(tokenId);
        address ip = ipAssetRegistry.ipId(block.chainid, address(modelNFT), tokenId);
        if (!ipAssetRegistry.isRegistered(ip)) revert IpNotRegistered(tokenId, ip);
        // Every buy mints a license of these terms: terms not attached to the IP, or that also charge a Story minting
        // fee (the marketplace price is the license's only fee), could never be bought, so they are refused now
        // rather than at every buy.
        address licenseRegistry = licensingModule.LICENSE_REGISTRY();
        if (!IMarketplaceLicenseRegistry(licenseRegistry).hasIpAttachedLicenseTerms(ip, licenseTemplate, licenseTermsId)) {
            revert LicenseTermsNotAttached(tokenId, ip, licenseTermsId);
        }
        (address currency, uint256 fee) =
            licensingModule.predictMintingLicenseFee(ip, licenseTemplate, licenseTermsId, 1, msg.sender, "");
        if (fee != 0) revert LicenseTermsHaveMintingFee(licenseTermsId, currency, fee);
        _listings[tokenId] = Listing({
            seller: msg.sender,
            licenseTermsId: SafeCast.toUint64(licenseTermsId),
            active: true,
            ipId: ip,
            priceUsd: priceUsd
        });
        emit Listed(tokenId, msg.sender, ip, licenseTermsId, priceUsd, basis);
    }

    /// @notice Reprice a listing. `basis` names what the price was derived from (e.g. the keccak256 of the anchored
    ///         metric a pricing rule used; bytes32(0) for a manual price), so every price change is traceable.
    function setPrice(uint256 tokenId, uint256 newPriceUsd, bytes32 basis) external {
        Listing storage entry = _activeListing(tokenId);
        if (msg.sender != entry.seller && !hasRole(PRICER_ROLE, msg.sender)) {
            revert NotListerOrPricer(tokenId, msg.sender);
        }
        if (newPriceUsd == 0) revert ZeroPrice();
        uint256 old = entry.priceUsd;
        entry.priceUsd = newPriceUsd;
        emit PriceUpdated(tokenId, old, newPriceUsd, msg.sender, basis);
    }

    function delist(uint256 tokenId) external {
        Listing storage entry = _activeListing(tokenId);
        if (msg.sender != entry.seller && !hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) {
            revert NotListerOrAdmin(tokenId, msg.sender);
        }
        entry.active = false;
        emit Delisted(tokenId, msg.sender);
    }

    function listing(uint256 tokenId) external view returns (Listing memory) {
        return _listings[tokenId];
    }

    // --- pricing -------------------------------------------------------------------------------------------------

    /// @notice The wei a buyer must send for `tokenId` now (rounded up).
    function quote(uint256 tokenId) public view returns (uint256 weiAmount) {
        return quoteUsd(_activeListing(tokenId).priceUsd);
    }

    /// @notice Convert a USD amount (18 decimals) to wei at the current checked ETH/USD price, rounding up.
    function quoteUsd(uint256 priceUsd) public view returns (uint256 weiAmount) {
        (uint256 answer, uint8 feedDecimals) = ethUsdPrice();
        // wei = usd * 1e18 / ethUsd  with usd = priceUsd / 1e18 and ethUsd = answer / 10**feedDecimals
        return Math.mulDiv(priceUsd, 10 ** feedDecimals, answer, Math.Rounding.Ceil);
    }

    /// @notice The ETH/USD answer after Chainlink's consumer checks, and the feed's decimals.
    function ethUsdPrice() public view returns (uint256 answer, uint8 feedDecimals) {
        FeedConfig memory cfg = _feed;
        if (address(cfg.sequencerUptimeFeed) != address(0)) {
            (, int256 status, uint256 startedAt,,) = cfg.sequencerUptimeFeed.latestRoundData();
            if (status != 0) revert SequencerDown();
            if (startedAt == 0 || startedAt > block.timestamp || block.timestamp - startedAt <= cfg.gracePeriod) {
                revert GracePeriodNotOver(startedAt, cfg.gracePeriod);
            }
        }
        (, int256 raw,, uint256 updatedAt,) = cfg.feed.latestRoundData();
        if (raw <= 0) revert InvalidPrice(raw);
        if (updatedAt == 0 || updatedAt > block.timestamp || block.timestamp - updatedAt > cfg.heartbeat) {
            revert StalePrice(updatedAt, cfg.heartbeat, block.timestamp);
        }
        return (uint256(raw), cfg.feed.decimals());
    }

    // --- buying and proceeds -------------------------------------------------------------------------------------

    /// @notice Pay for a license to `tokenId`'s model. Excess ETH is refunded; the license token goes to the caller.
    function buy(uint256 tokenId) external payable nonReentrant returns (uint256 licenseTokenId) {
        Listing storage entry = _activeListing(tokenId);
        address owner = modelNFT.ownerOf(tokenId);
        if (owner != entry.seller) revert ListingOwnerChanged(tokenId, entry.seller, owner);
        uint256 price = quoteUsd(entry.priceUsd);
        if (msg.value < price) revert InsufficientPayment(price, msg.value);
        uint256 refund = msg.value - price;
        proceeds[entry.seller] += price;
        licenseTokenId = licensingModule.mintLicenseTokens(
            entry.ipId, licenseTemplate, entry.licenseTermsId, 1, msg.sender, "", 0, MAX_REVENUE_SHARE
        );
        emit Purchased(tokenId, msg.sender, entry.seller, entry.priceUsd, price, refund, licenseTokenId);
        if (refund > 0) Address.sendValue(payable(msg.sender), refund);
    }

    /// @notice Withdraw the caller's accrued proceeds (pull payment).
    function withdraw() external nonReentrant returns (uint256 amount) {
        amount = proceeds[msg.sender];
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        proceeds[msg.sender] = 0;
        emit ProceedsWithdrawn(msg.sender, amount);
        Address.sendValue(payable(msg.sender), amount);
    }

    // --- internals -----------------------------------------------------------------------------------------------

    function _activeListing(uint256 tokenId) private view returns (Listing storage entry) {
        entry = _listings[tokenId];
        if (!entry.active) revert NotListed(tokenId);
    }

    function _configureFeed(
        AggregatorV3Interface ethUsdFeed,
        uint32 heartbeat,
        AggregatorV3Interface sequencerUptimeFeed,
        uint32 gracePeriod
    ) private {
        if (address(ethUsdFeed) == address(0)) revert ZeroAddress();
        if (heartbeat == 0) revert ZeroHeartbeat();
        _feed = FeedConfig(ethUsdFeed, heartbeat, sequencerUptimeFeed, gracePeriod);
        emit FeedConfigured(address(ethUsdFeed), heartbeat, address(sequencerUptimeFeed), gracePeriod);
    }
}
