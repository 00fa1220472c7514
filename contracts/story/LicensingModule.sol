// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

import {AccessControlled} from "./AccessControlled.sol";
import {
    IIPAccountOwner,
    IIPAssetRegistryLookup,
    ILicenseRegistryCore,
    ILicenseTemplateCore,
    ILicenseTokenCore,
    ILicensingHook,
    IModuleRegistryLookup,
    IRoyaltyModuleCore
} from "./StoryInterfaces.sol";
import {LicensingConfig} from "./StoryTypes.sol";

/// @title LicensingModule — attach terms, configure them, mint licenses (collecting fees), register derivatives.
/// @notice Story's entry points, selectors, events and errors (core v1.3 semantics):
///         - `attachLicenseTerms` / `attachDefaultLicenseTerms` / `setLicensingConfig`: the IP account, its owner or
///           an operator the AccessController allows.
///         - `mintLicenseTokens`: anyone may mint licenses of terms attached to the licensor; the IP's owner (or an
///           allowed operator) may mint any existing terms. The fee is the licensing configuration's (or the hook's,
///           when a hook is configured), else the terms' `defaultMintingFee`, times `amount`; it is charged only when
///           the terms name a royalty policy, pulled from the caller by the RoyaltyModule (approve the RoyaltyModule
///           for the currency). The royalty policy is told about the license (vault deployed for the licensor).
///         - `registerDerivative` (the child's owner or operator; pays each parent's fee) and
///           `registerDerivativeWithLicenseTokens` (burns licenses held by the caller or the child): the child must
///           be fresh, inherits its parents' terms, and is linked in the royalty graph of the terms' policy.
///         - `predictMintingLicenseFee`: the currency and amount `mintLicenseTokens` would charge.
///         `maxMintingFee`, `maxRevenueShare` and `maxRts` (0 = no limit for the first two) protect the caller.
/// @dev No constructor state besides immutables: the runtime code can be placed at Story's address unchanged.
contract LicensingModule is AccessControlled, ReentrancyGuard {
    address public immutable LICENSE_REGISTRY;
    address public immutable LICENSE_NFT;
    address public immutable ROYALTY_MODULE;
    address public immutable MODULE_REGISTRY;
    /// @notice Story's limit on the ancestors of an IP that sells licenses allowing derivatives.
    uint256 public constant MAX_ANCESTOR = 1024;

    /// @dev The terms' royalty information (Story's ILicenseTemplate.getRoyaltyPolicy).
    struct RoyaltyInfo {
        address royaltyPolicy;
        uint32 royaltyPercent;
        uint256 mintingFee;
        address currency;
    }

    /// @dev A derivative registration against parent terms (kept in memory: too many values for the stack).
    struct DerivativeRequest {
        address childIpId;
        address[] parentIpIds;
        uint256[] licenseTermsIds;
        address licenseTemplate;
        uint256 maxMintingFee;
        uint32 maxRts;
        uint32 maxRevenueShare;
    }

    /// @dev One parent license of a derivative registration.
    struct ParentLicense {
        address childIpId;
        address parentIpId;
        address licenseTemplate;
        uint256 licenseTermsId;
    }

    event LicenseTermsAttached(
        address indexed caller, address indexed ipId, address licenseTemplate, uint256 licenseTermsId
    );
    event LicenseTokensMinted(
        address indexed caller,
        address indexed licensorIpId,
        address licenseTemplate,
        uint256 indexed licenseTermsId,
        uint256 amount,
        address receiver,
        uint256 startLicenseTokenId
    );
    event DerivativeRegistered(
        address indexed caller,
        address indexed childIpId,
        uint256[] licenseTokenIds,
        address[] parentIpIds,
        uint256[] licenseTermsIds,
        address licenseTemplate
    );

    error LicensingModule__MintAmountZero();
    error LicensingModule__ReceiverZeroAddress();
    error LicensingModule__LicensorIpNotRegistered();
    error LicensingModule__MintingFeeExceedMaxMintingFee(uint256 mintingFee, uint256 maxMintingFee);
    error LicensingModule__LicenseDenyMintLicenseToken(address licenseTemplate, uint256 licenseTermsId, address licensorIpId);
    error LicensingModule__LicenseDisabled(address ipId, address licenseTemplate, uint256 licenseTermsId);
    error LicensingModule__LicensingHookMintingFeeBelowLicenseTerms(
        uint256 licensingHookMintingFee, uint256 licenseTermsMintingFee
    );
    error LicensingModule__TooManyAncestorsForMintingLicenseTokenAllowRegisterDerivative(
        address licensorIpId, uint256 ancestors, uint256 maxAncestors
    );
    error LicensingModule__LicenseTermsLengthMismatch(uint256 ipLength, uint256 licenseTermsLength);
    error LicensingModule__NoParentIp();
    error LicensingModule__LicenseNotCompatibleForDerivative(address childIpId);
    error LicensingModule__LicenseTokenNotCompatibleForDerivative(address childIpId, uint256[] licenseTokenIds);
    error LicensingModule__DerivativeAlreadyHasBeenMintedLicenseTokens(address childIpId);
    error LicensingModule__ExceedMaxRevenueShare(
        address ipId, address licenseTemplate, uint256 licenseTermsId, uint32 revenueShare, uint32 maxRevenueShare
    );
    error LicensingModule__RoyaltyPolicyMismatch(address royaltyPolicy, address anotherRoyaltyPolicy);
    error LicensingModule__NoLicenseToken();
    error LicensingModule__ZeroLicenseTemplate();
    error LicensingModule__InvalidLicenseTermsId(address licenseTemplate, uint256 licenseTermsId);
    error LicensingModule__CurrentLicenseNotAllowOverrideRoyaltyPercent(
        address licenseTemplate, uint256 licenseTermsId, uint32 newRoyaltyPercent
    );
    error LicensingModule__LicensingConfigMintingFeeBelowLicenseTerms(
        address licenseTemplate, uint256 licenseTermsId, uint256 licensingConfigMintingFee, uint256 licenseTermsMintingFee
    );
    error LicensingModule__MintingFeeRequiresRoyaltyPolicy();
    error LicensingModule__InvalidLicensingHook(address hook);
    error LicenseRegistry__UnregisteredLicenseTemplate(address licenseTemplate);

    constructor(
        address accessController,
        address ipAssetRegistry,
        address moduleRegistry,
        address royaltyModule,
        address licenseRegistry,
        address licenseToken
    ) AccessControlled(accessController, ipAssetRegistry) {
        MODULE_REGISTRY = moduleRegistry;
        ROYALTY_MODULE = royaltyModule;
        LICENSE_REGISTRY = licenseRegistry;
        LICENSE_NFT = licenseToken;
    }

    /// @notice Story's module name.
    function name() external pure returns (string memory) {
        return "LICENSING_MODULE";
    }

    /// @notice Story's pause flag: this suite is never paused.
    function paused() external pure returns (bool) {
        return false;
    }

    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(IERC165).interfaceId;
    }

    // --- attaching and configuring ----------------------------------------------------------------------------------
    function attachLicenseTerms(address ipId, address licenseTemplate, uint256 licenseTermsId)
        external
        verifyPermission(ipId)
    {
        ILicenseRegistryCore(LICENSE_REGISTRY).attachLicenseTermsToIp(ipId, licenseTemplate, licenseTermsId);
        emit LicenseTermsAttached(msg.sender, ipId, licenseTemplate, licenseTermsId);
    }

    /// @notice Attaches the protocol's default terms (the registry's `getDefaultLicenseTerms`).
    function attachDefaultLicenseTerms(address ipId) external verifyPermission(ipId) {
        ILicenseRegistryCore registry = ILicenseRegistryCore(LICENSE_REGISTRY);
        (address licenseTemplate, uint256 licenseTermsId) = registry.getDefaultLicenseTerms();
        registry.attachLicenseTermsToIp(ipId, licenseTemplate, licenseTermsId);
        emit LicenseTermsAttached(msg.sender, ipId, licenseTemplate, licenseTermsId);
    }

    function setLicensingConfig(
        address ipId,
        address licenseTemplate,
        uint256 licenseTermsId,
        LicensingConfig calldata licensingConfig
    ) external verifyPermission(ipId) {
        if (licenseTemplate == address(0)) revert LicensingModule__ZeroLicenseTemplate();
        if (licenseTermsId == 0) revert LicensingModule__InvalidLicenseTermsId(licenseTemplate, licenseTermsId);
        ILicenseTemplateCore template = ILicenseTemplateCore(licenseTemplate);
        if (licensingConfig.commercialRevShare != 0) {
            if (!ILicenseRegistryCore(LICENSE_REGISTRY).isRegisteredLicenseTemplate(licenseTemplate)) {
                revert LicenseRegistry__UnregisteredLicenseTemplate(licenseTemplate);
            }
            if (!template.canOverrideRoyaltyPercent(licenseTermsId, licensingConfig.commercialRevShare)) {
                revert LicensingModule__CurrentLicenseNotAllowOverrideRoyaltyPercent(
                    licenseTemplate, licenseTermsId, licensingConfig.commercialRevShare
                );
            }
        }
        (address royaltyPolicy,, uint256 defaultMintingFee,) = template.getRoyaltyPolicy(licenseTermsId);
        if (licensingConfig.mintingFee < defaultMintingFee) {
            revert LicensingModule__LicensingConfigMintingFeeBelowLicenseTerms(
                licenseTemplate, licenseTermsId, licensingConfig.mintingFee, defaultMintingFee
            );
        }
        if (licensingConfig.mintingFee > 0 && royaltyPolicy == address(0)) {
            revert LicensingModule__MintingFeeRequiresRoyaltyPolicy();
        }
        address hook = licensingConfig.licensingHook;
        if (hook != address(0) && (!_supportsLicensingHook(hook) || !IModuleRegistryLookup(MODULE_REGISTRY).isRegistered(hook))) {
            revert LicensingModule__InvalidLicensingHook(hook);
        }
        ILicenseRegistryCore(LICENSE_REGISTRY).setLicensingConfigForLicense(
            ipId, licenseTemplate, licenseTermsId, licensingConfig
        );
    }

    // --- licenses ---------------------------------------------------------------------------------------------------
    function mintLicenseTokens(
        address licensorIpId,
        address licenseTemplate,
        uint256 licenseTermsId,
        uint256 amount,
        address receiver,
        bytes calldata royaltyContext,
        uint256 maxMintingFee,
        uint32 maxRevenueShare
    ) external nonReentrant returns (uint256 startLicenseTokenId) {
        if (amount == 0) revert LicensingModule__MintAmountZero();
        if (receiver == address(0)) revert LicensingModule__ReceiverZeroAddress();
        if (!IIPAssetRegistryLookup(IP_ASSET_REGISTRY).isRegistered(licensorIpId)) {
            revert LicensingModule__LicensorIpNotRegistered();
        }
        uint256 paid = _verifyAndPayMintingFee(licensorIpId, licenseTemplate, licenseTermsId, amount, receiver, royaltyContext);
        if (maxMintingFee != 0 && paid > maxMintingFee) {
            revert LicensingModule__MintingFeeExceedMaxMintingFee(paid, maxMintingFee);
        }
        startLicenseTokenId = ILicenseTokenCore(LICENSE_NFT).mintLicenseTokens(
            licensorIpId, licenseTemplate, licenseTermsId, amount, msg.sender, receiver, maxRevenueShare
        );
        emit LicenseTokensMinted(
            msg.sender, licensorIpId, licenseTemplate, licenseTermsId, amount, receiver, startLicenseTokenId
        );
    }

    function registerDerivative(
        address childIpId,
        address[] calldata parentIpIds,
        uint256[] calldata licenseTermsIds,
        address licenseTemplate,
        bytes calldata royaltyContext,
        uint256 maxMintingFee,
        uint32 maxRts,
        uint32 maxRevenueShare
    ) external nonReentrant verifyPermission(childIpId) {
        if (parentIpIds.length != licenseTermsIds.length) {
            revert LicensingModule__LicenseTermsLengthMismatch(parentIpIds.length, licenseTermsIds.length);
        }
        if (parentIpIds.length == 0) revert LicensingModule__NoParentIp();
        _registerDerivative(
            DerivativeRequest(
                childIpId, parentIpIds, licenseTermsIds, licenseTemplate, maxMintingFee, maxRts, maxRevenueShare
            ),
            royaltyContext
        );
    }

    function registerDerivativeWithLicenseTokens(
        address childIpId,
        uint256[] calldata licenseTokenIds,
        bytes calldata royaltyContext,
        uint32 maxRts
    ) external nonReentrant verifyPermission(childIpId) {
        if (licenseTokenIds.length == 0) revert LicensingModule__NoLicenseToken();
        address childOwner = IIPAccountOwner(childIpId).owner();
        (address licenseTemplate, address[] memory parentIpIds, uint256[] memory licenseTermsIds, uint32[] memory percents)
        = ILicenseTokenCore(LICENSE_NFT).validateLicenseTokensForDerivative(msg.sender, childIpId, licenseTokenIds);
        if (
            !ILicenseTemplateCore(licenseTemplate).verifyRegisterDerivativeForAllParents(
                childIpId, parentIpIds, licenseTermsIds, msg.sender
            )
        ) revert LicensingModule__LicenseTokenNotCompatibleForDerivative(childIpId, licenseTokenIds);
        ILicenseRegistryCore(LICENSE_REGISTRY).registerDerivativeIp(
            childIpId, parentIpIds, licenseTemplate, licenseTermsIds, true
        );
        address[] memory policies = _samePolicy(licenseTemplate, licenseTermsIds);
        if (policies[0] != address(0)) {
            IRoyaltyModuleCore(ROYALTY_MODULE).onLinkToParents(
                childIpId, parentIpIds, policies, percents, royaltyContext, maxRts
            );
        }
        ILicenseTokenCore(LICENSE_NFT).burnLicenseTokens(childOwner, licenseTokenIds);
        emit DerivativeRegistered(msg.sender, childIpId, licenseTokenIds, parentIpIds, licenseTermsIds, licenseTemplate);
    }

    /// @notice The currency and amount `mintLicenseTokens` would charge the caller.
    function predictMintingLicenseFee(
        address licensorIpId,
        address licenseTemplate,
        uint256 licenseTermsId,
        uint256 amount,
        address receiver,
        bytes calldata royaltyContext
    ) external view returns (address currencyToken, uint256 tokenAmount) {
        royaltyContext;
        if (amount == 0) revert LicensingModule__MintAmountZero();
        if (receiver == address(0)) revert LicensingModule__ReceiverZeroAddress();
        LicensingConfig memory config = ILicenseRegistryCore(LICENSE_REGISTRY).verifyMintLicenseToken(
            licensorIpId, licenseTemplate, licenseTermsId, _hasPermission(licensorIpId)
        );
        uint256 feeByHook = 0;
        if (config.isSet && config.licensingHook != address(0)) {
            feeByHook = ILicensingHook(config.licensingHook).calculateMintingFee(
                msg.sender, licensorIpId, licenseTemplate, licenseTermsId, amount, receiver, config.hookData
            );
        }
        RoyaltyInfo memory info = _royaltyInfo(licenseTemplate, licenseTermsId);
        currencyToken = info.currency;
        if (info.royaltyPolicy != address(0)) tokenAmount = _totalMintingFee(config, feeByHook, info.mintingFee, amount);
    }

    // --- internals --------------------------------------------------------------------------------------------------
    function _verifyAndPayMintingFee(
        address licensorIpId,
        address licenseTemplate,
        uint256 licenseTermsId,
        uint256 amount,
        address receiver,
        bytes calldata royaltyContext
    ) private returns (uint256 paid) {
        bool byOwner = _hasPermission(licensorIpId);
        ILicenseRegistryCore registry = ILicenseRegistryCore(LICENSE_REGISTRY);
        LicensingConfig memory config =
            registry.verifyMintLicenseToken(licensorIpId, licenseTemplate, licenseTermsId, byOwner);
        if (byOwner) registry.initializeLicenseTemplate(licensorIpId, licenseTemplate);
        if (ILicenseTemplateCore(licenseTemplate).allowDerivativeRegistration(licenseTermsId)) {
            uint256 ancestors = registry.getAncestorsCount(licensorIpId);
            if (ancestors >= MAX_ANCESTOR) {
                revert LicensingModule__TooManyAncestorsForMintingLicenseTokenAllowRegisterDerivative(
                    licensorIpId, ancestors, MAX_ANCESTOR
                );
            }
        }
        if (config.isSet && config.disabled) {
            revert LicensingModule__LicenseDisabled(licensorIpId, licenseTemplate, licenseTermsId);
        }
        uint256 feeByHook = 0;
        if (config.isSet && config.licensingHook != address(0)) {
            feeByHook = ILicensingHook(config.licensingHook).beforeMintLicenseTokens(
                msg.sender, licensorIpId, licenseTemplate, licenseTermsId, amount, receiver, config.hookData
            );
        }
        (,, paid) = _payMintingFee(licensorIpId, licenseTemplate, licenseTermsId, amount, royaltyContext, config, feeByHook);
        if (!ILicenseTemplateCore(licenseTemplate).verifyMintLicenseToken(licenseTermsId, receiver, licensorIpId, amount)) {
            revert LicensingModule__LicenseDenyMintLicenseToken(licenseTemplate, licenseTermsId, licensorIpId);
        }
    }

    function _registerDerivative(DerivativeRequest memory req, bytes calldata royaltyContext) private {
        if (
            !ILicenseTemplateCore(req.licenseTemplate).verifyRegisterDerivativeForAllParents(
                req.childIpId, req.parentIpIds, req.licenseTermsIds, msg.sender
            )
        ) revert LicensingModule__LicenseNotCompatibleForDerivative(req.childIpId);
        if (ILicenseTokenCore(LICENSE_NFT).getTotalTokensByLicensor(req.childIpId) != 0) {
            revert LicensingModule__DerivativeAlreadyHasBeenMintedLicenseTokens(req.childIpId);
        }
        ILicenseRegistryCore(LICENSE_REGISTRY).registerDerivativeIp(
            req.childIpId, req.parentIpIds, req.licenseTemplate, req.licenseTermsIds, false
        );
        (address[] memory policies, uint32[] memory percents) = _payMintingFeesForParents(req, royaltyContext);
        _checkRevenueShare(req, percents);
        if (policies[0] != address(0)) {
            IRoyaltyModuleCore(ROYALTY_MODULE).onLinkToParents(
                req.childIpId, req.parentIpIds, policies, percents, royaltyContext, req.maxRts
            );
        }
        emit DerivativeRegistered(
            msg.sender, req.childIpId, new uint256[](0), req.parentIpIds, req.licenseTermsIds, req.licenseTemplate
        );
    }

    function _payMintingFeesForParents(DerivativeRequest memory req, bytes calldata royaltyContext)
        private
        returns (address[] memory policies, uint32[] memory percents)
    {
        uint256 count = req.parentIpIds.length;
        policies = new address[](count);
        percents = new uint32[](count);
        uint256 totalPaid = 0;
        for (uint256 i = 0; i < count; i++) {
            uint256 paid;
            (policies[i], percents[i], paid) = _payForParent(
                ParentLicense(req.childIpId, req.parentIpIds[i], req.licenseTemplate, req.licenseTermsIds[i]),
                royaltyContext
            );
            if (policies[i] != policies[0]) revert LicensingModule__RoyaltyPolicyMismatch(policies[0], policies[i]);
            totalPaid += paid;
            if (req.maxMintingFee != 0 && totalPaid > req.maxMintingFee) {
                revert LicensingModule__MintingFeeExceedMaxMintingFee(totalPaid, req.maxMintingFee);
            }
        }
    }

    function _payForParent(ParentLicense memory license, bytes calldata royaltyContext)
        private
        returns (address royaltyPolicy, uint32 royaltyPercent, uint256 paid)
    {
        LicensingConfig memory config = ILicenseRegistryCore(LICENSE_REGISTRY).getLicensingConfig(
            license.parentIpId, license.licenseTemplate, license.licenseTermsId
        );
        if (config.isSet && config.disabled) {
            revert LicensingModule__LicenseDisabled(license.parentIpId, license.licenseTemplate, license.licenseTermsId);
        }
        uint256 feeByHook = 0;
        if (config.isSet && config.licensingHook != address(0)) {
            feeByHook = ILicensingHook(config.licensingHook).beforeRegisterDerivative(
                msg.sender,
                license.childIpId,
                license.parentIpId,
                license.licenseTemplate,
                license.licenseTermsId,
                config.hookData
            );
        }
        return _payMintingFee(
            license.parentIpId, license.licenseTemplate, license.licenseTermsId, 1, royaltyContext, config, feeByHook
        );
    }

    function _payMintingFee(
        address parentIpId,
        address licenseTemplate,
        uint256 licenseTermsId,
        uint256 amount,
        bytes calldata royaltyContext,
        LicensingConfig memory config,
        uint256 feeByHook
    ) private returns (address royaltyPolicy, uint32 royaltyPercent, uint256 total) {
        RoyaltyInfo memory info = _royaltyInfo(licenseTemplate, licenseTermsId);
        if (config.isSet && config.licensingHook != address(0) && feeByHook < info.mintingFee * amount) {
            revert LicensingModule__LicensingHookMintingFeeBelowLicenseTerms(feeByHook / amount, info.mintingFee);
        }
        royaltyPolicy = info.royaltyPolicy;
        royaltyPercent = info.royaltyPercent;
        if (config.isSet && config.commercialRevShare != 0) royaltyPercent = config.commercialRevShare;
        if (royaltyPolicy == address(0)) return (royaltyPolicy, royaltyPercent, 0);
        IRoyaltyModuleCore royalty = IRoyaltyModuleCore(ROYALTY_MODULE);
        royalty.onLicenseMinting(parentIpId, royaltyPolicy, royaltyPercent, royaltyContext);
        total = _totalMintingFee(config, feeByHook, info.mintingFee, amount);
        if (total > 0) royalty.payLicenseMintingFee(parentIpId, msg.sender, info.currency, total);
    }

    function _checkRevenueShare(DerivativeRequest memory req, uint32[] memory percents) private view {
        uint32 allocated = 0;
        ILicenseRegistryCore registry = ILicenseRegistryCore(LICENSE_REGISTRY);
        for (uint256 i = 0; i < req.parentIpIds.length; i++) {
            percents[i] = registry.getRoyaltyPercent(req.parentIpIds[i], req.licenseTemplate, req.licenseTermsIds[i]);
            allocated += percents[i];
            if (req.maxRevenueShare != 0 && allocated > req.maxRevenueShare) {
                revert LicensingModule__ExceedMaxRevenueShare(
                    req.parentIpIds[i], req.licenseTemplate, req.licenseTermsIds[i], allocated, req.maxRevenueShare
                );
            }
        }
    }

    function _samePolicy(address licenseTemplate, uint256[] memory licenseTermsIds)
        private
        view
        returns (address[] memory policies)
    {
        policies = new address[](licenseTermsIds.length);
        for (uint256 i = 0; i < licenseTermsIds.length; i++) {
            policies[i] = _royaltyInfo(licenseTemplate, licenseTermsIds[i]).royaltyPolicy;
            if (policies[i] != policies[0]) revert LicensingModule__RoyaltyPolicyMismatch(policies[0], policies[i]);
        }
    }

    function _royaltyInfo(address licenseTemplate, uint256 licenseTermsId) private view returns (RoyaltyInfo memory info) {
        (info.royaltyPolicy, info.royaltyPercent, info.mintingFee, info.currency) =
            ILicenseTemplateCore(licenseTemplate).getRoyaltyPolicy(licenseTermsId);
    }

    function _totalMintingFee(LicensingConfig memory config, uint256 feeByHook, uint256 feeByTerms, uint256 amount)
        private
        pure
        returns (uint256)
    {
        if (!config.isSet) return feeByTerms * amount;
        if (config.licensingHook == address(0)) return config.mintingFee * amount;
        return feeByHook;
    }

    function _supportsLicensingHook(address hook) private view returns (bool) {
        try IERC165(hook).supportsInterface(type(ILicensingHook).interfaceId) returns (bool ok) {
            return ok;
        } catch {
            return false;
        }
    }
}
