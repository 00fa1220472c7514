// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {PILTerms} from "./PILTerms.sol";
import {LicensingConfig, Permission} from "./StoryTypes.sol";

/// @notice What the suite asks an IP account (ERC-6551 account bound to the IP's NFT).
interface IIPAccountOwner {
    function owner() external view returns (address);
    function token() external view returns (uint256 chainId, address tokenContract, uint256 tokenId);
    function state() external view returns (bytes32);
}

/// @notice The IP account's call-out entry points the periphery uses.
interface IIPAccountExecute {
    function execute(address to, uint256 value, bytes calldata data) external payable returns (bytes memory);
    function executeWithSig(
        address to,
        uint256 value,
        bytes calldata data,
        address signer,
        uint256 deadline,
        bytes calldata signature
    ) external payable returns (bytes memory);
}

/// @notice What the modules ask the IP asset registry.
interface IIPAssetRegistryLookup {
    function isRegistered(address id) external view returns (bool);
    function register(uint256 chainid, address tokenContract, uint256 tokenId) external returns (address id);
    function ipId(uint256 chainId, address tokenContract, uint256 tokenId) external view returns (address);
    function registrationDate(address id) external view returns (uint256);
}

/// @notice The access controller's checks and the transient grants the periphery asks for (through the IP account).
interface IAccessControllerChecks {
    function checkPermission(address ipAccount, address signer, address to, bytes4 func) external view;
    function setTransientPermission(address ipAccount, address signer, address to, bytes4 func, uint8 permission)
        external;
    function setBatchTransientPermissions(Permission[] memory permissions) external;
}

/// @notice What the suite asks the module registry.
interface IModuleRegistryLookup {
    function isRegistered(address moduleAddress) external view returns (bool);
}

/// @notice A license template as the licensing contracts use it (the PIL template implements it).
interface ILicenseTemplateCore {
    function exists(uint256 licenseTermsId) external view returns (bool);
    function getLicenseTerms(uint256 licenseTermsId) external view returns (PILTerms memory terms);
    function getRoyaltyPolicy(uint256 licenseTermsId)
        external
        view
        returns (address royaltyPolicy, uint32 royaltyPercent, uint256 mintingFee, address currency);
    function isLicenseTransferable(uint256 licenseTermsId) external view returns (bool);
    function getEarlierExpireTime(uint256[] calldata licenseTermsIds, uint256 start) external view returns (uint256);
    function canOverrideRoyaltyPercent(uint256 licenseTermsId, uint32 newRoyaltyPercent) external view returns (bool);
    function allowDerivativeRegistration(uint256 licenseTermsId) external view returns (bool);
    function verifyMintLicenseToken(uint256 licenseTermsId, address licensee, address licensorIpId, uint256 amount)
        external
        view
        returns (bool);
    function verifyRegisterDerivativeForAllParents(
        address childIpId,
        address[] calldata parentIpIds,
        uint256[] calldata licenseTermsIds,
        address caller
    ) external view returns (bool);
    function registerLicenseTerms(PILTerms calldata terms) external returns (uint256 id);
}

/// @notice The license registry: attachments, configurations and the derivative graph.
interface ILicenseRegistryCore {
    function isRegisteredLicenseTemplate(address licenseTemplate) external view returns (bool);
    function isDerivativeIp(address ipId) external view returns (bool);
    function hasIpAttachedLicenseTerms(address ipId, address licenseTemplate, uint256 licenseTermsId)
        external
        view
        returns (bool);
    function getLicensingConfig(address ipId, address licenseTemplate, uint256 licenseTermsId)
        external
        view
        returns (LicensingConfig memory);
    function getRoyaltyPercent(address ipId, address licenseTemplate, uint256 licenseTermsId)
        external
        view
        returns (uint32);
    function getDefaultLicenseTerms() external view returns (address licenseTemplate, uint256 licenseTermsId);
    function getAncestorsCount(address ipId) external view returns (uint256);
    function isAncestorIp(address ancestorIpId, address ipId) external view returns (bool);
    function getParentIpCount(address childIpId) external view returns (uint256);
    function getParentIp(address childIpId, uint256 index) external view returns (address);
    function isExpiredNow(address ipId) external view returns (bool);
    function verifyMintLicenseToken(
        address licensorIpId,
        address licenseTemplate,
        uint256 licenseTermsId,
        bool isMintedByIpOwner
    ) external view returns (LicensingConfig memory);
    function attachLicenseTermsToIp(address ipId, address licenseTemplate, uint256 licenseTermsId) external;
    function setLicensingConfigForLicense(
        address ipId,
        address licenseTemplate,
        uint256 licenseTermsId,
        LicensingConfig calldata licensingConfig
    ) external;
    function initializeLicenseTemplate(address ipId, address licenseTemplate) external;
    function registerDerivativeIp(
        address childIpId,
        address[] calldata parentIpIds,
        address licenseTemplate,
        uint256[] calldata licenseTermsIds,
        bool isUsingLicenseToken
    ) external;
}

/// @notice The license token's writes (licensing module only) and its derivative-registration check.
interface ILicenseTokenCore {
    function mintLicenseTokens(
        address licensorIpId,
        address licenseTemplate,
        uint256 licenseTermsId,
        uint256 amount,
        address minter,
        address receiver,
        uint32 maxRevenueShare
    ) external returns (uint256 startLicenseTokenId);
    function burnLicenseTokens(address holder, uint256[] calldata tokenIds) external;
    function getTotalTokensByLicensor(address licensorIpId) external view returns (uint256);
    function validateLicenseTokensForDerivative(address caller, address childIpId, uint256[] calldata tokenIds)
        external
        view
        returns (
            address licenseTemplate,
            address[] memory licensorIpIds,
            uint256[] memory licenseTermsIds,
            uint32[] memory commercialRevShares
        );
}

/// @notice The royalty module as the licensing module, the policies and the vaults use it.
interface IRoyaltyModuleCore {
    function onLicenseMinting(address ipId, address royaltyPolicy, uint32 licensePercent, bytes calldata externalData)
        external;
    function onLinkToParents(
        address ipId,
        address[] calldata parentIpIds,
        address[] calldata licenseRoyaltyPolicies,
        uint32[] calldata licensesPercent,
        bytes calldata externalData,
        uint32 maxRts
    ) external;
    function payLicenseMintingFee(address receiverIpId, address payerAddress, address token, uint256 amount) external;
    function ipRoyaltyVaults(address ipId) external view returns (address);
    function deployVault(address ipId) external returns (address);
    function isWhitelistedRoyaltyPolicy(address royaltyPolicy) external view returns (bool);
    function isRegisteredExternalRoyaltyPolicy(address royaltyPolicy) external view returns (bool);
    function isWhitelistedRoyaltyToken(address token) external view returns (bool);
    function isIpRoyaltyVault(address vault) external view returns (bool);
    function hasAncestorIp(address ipId, address ancestorIpId) external view returns (bool);
    function globalRoyaltyStack(address ipId) external view returns (uint32);
    function totalRevenueTokensAccounted(address ipId, address token, address royaltyPolicy)
        external
        view
        returns (uint256);
}

/// @notice A royalty policy whitelisted in the royalty module (LAP, LRP).
interface IRoyaltyPolicyCore {
    function onLicenseMinting(address ipId, uint32 licensePercent, bytes calldata externalData) external;
    function onLinkToParents(
        address ipId,
        address[] calldata parentIpIds,
        address[] calldata licenseRoyaltyPolicies,
        uint32[] calldata licensesPercent,
        bytes calldata externalData
    ) external returns (uint32);
    function getPolicyRoyaltyStack(address ipId) external view returns (uint32);
    function getPolicyRtsRequiredToLink(address ipId, uint32 licensePercent) external view returns (uint32);
    function transferToVault(address ipId, address ancestorIpId, address token) external returns (uint256);
}

/// @notice An IP royalty vault as the royalty module and the workflows use it.
interface IIpRoyaltyVaultCore {
    function initialize(string memory name, string memory symbol, uint32 supply, address ipIdAddress, address rtReceiver)
        external;
    function updateVaultBalance(address token, uint256 amount) external;
    function claimRevenueOnBehalfByTokenBatch(address claimer, address[] calldata tokenList)
        external
        returns (uint256[] memory);
}

/// @notice Story's licensing hook interface (`ILicensingHook`): its interface id is checked on registration.
interface ILicensingHook {
    function beforeMintLicenseTokens(
        address caller,
        address licensorIpId,
        address licenseTemplate,
        uint256 licenseTermsId,
        uint256 amount,
        address receiver,
        bytes calldata hookData
    ) external returns (uint256 totalMintingFee);
    function beforeRegisterDerivative(
        address caller,
        address childIpId,
        address parentIpId,
        address licenseTemplate,
        uint256 licenseTermsId,
        bytes calldata hookData
    ) external returns (uint256 mintingFee);
    function calculateMintingFee(
        address caller,
        address licensorIpId,
        address licenseTemplate,
        uint256 licenseTermsId,
        uint256 amount,
        address receiver,
        bytes calldata hookData
    ) external view returns (uint256 totalMintingFee);
}

/// @notice The licensing module's entry points the periphery calls.
interface ILicensingModuleCore {
    function attachLicenseTerms(address ipId, address licenseTemplate, uint256 licenseTermsId) external;
    function attachDefaultLicenseTerms(address ipId) external;
    function setLicensingConfig(
        address ipId,
        address licenseTemplate,
        uint256 licenseTermsId,
        LicensingConfig memory licensingConfig
    ) external;
    function registerDerivative(
        address childIpId,
        address[] calldata parentIpIds,
        uint256[] calldata licenseTermsIds,
        address licenseTemplate,
        bytes calldata royaltyContext,
        uint256 maxMintingFee,
        uint32 maxRts,
        uint32 maxRevenueShare
    ) external;
    function registerDerivativeWithLicenseTokens(
        address childIpId,
        uint256[] calldata licenseTokenIds,
        bytes calldata royaltyContext,
        uint32 maxRts
    ) external;
    function predictMintingLicenseFee(
        address licensorIpId,
        address licenseTemplate,
        uint256 licenseTermsId,
        uint256 amount,
        address receiver,
        bytes calldata royaltyContext
    ) external view returns (address currencyToken, uint256 tokenAmount);
}

/// @notice The core metadata module's combined setter (what the workflows call).
interface ICoreMetadataSetAll {
    function setAll(address ipId, string calldata metadataURI, bytes32 metadataHash, bytes32 nftMetadataHash)
        external;
}

/// @notice The SPG NFT collection entry points the periphery uses.
interface ISPGNFTPeriphery {
    function mintByPeriphery(
        address to,
        address payer,
        string calldata nftMetadataURI,
        bytes32 nftMetadataHash,
        bool allowDuplicates
    ) external returns (uint256 tokenId);
    function hasRole(bytes32 role, address account) external view returns (bool);
    function publicMinting() external view returns (bool);
    function safeTransferFrom(address from, address to, uint256 tokenId) external;
}
