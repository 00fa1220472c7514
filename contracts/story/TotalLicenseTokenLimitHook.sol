// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControlled} from "./AccessControlled.sol";
import {ILicenseTemplateCore, ILicensingHook} from "./StoryInterfaces.sol";

/// @title TotalLicenseTokenLimitHook — a licensing hook capping how many licenses (and derivatives) an IP grants.
/// @notice The IP owner (or an allowed operator) sets a limit per (IP, template, terms); configured as the
///         `licensingHook` of those terms, the hook counts every license minted and every derivative registered
///         and refuses the one that would exceed the limit (0 = unlimited). The fee it reports is the terms' fee.
///         Only the LicensingModule reports mints and derivatives (nobody else can use up an IP's allowance).
contract TotalLicenseTokenLimitHook is AccessControlled, ILicensingHook {
    /// @notice The licensing module, the only caller of the before* hooks.
    address public immutable LICENSING_MODULE;

    mapping(bytes32 key => uint256) private _limits;
    mapping(bytes32 key => uint256) private _minted;

    event SetTotalLicenseTokenLimit(
        address indexed licensorIpId, address indexed licenseTemplate, uint256 indexed licenseTermsId, uint256 limit
    );

    error TotalLicenseTokenLimitHook_LimitLowerThanTotalSupply(uint256 totalSupply, uint256 limit);
    error TotalLicenseTokenLimitHook_TotalLicenseTokenLimitExceeded(uint256 totalSupply, uint256 amount, uint256 limit);
    error TotalLicenseTokenLimitHook_NotLicensingModule(address caller);

    constructor(address accessController, address ipAssetRegistry, address licensingModule)
        AccessControlled(accessController, ipAssetRegistry)
    {
        LICENSING_MODULE = licensingModule;
    }

    modifier onlyLicensingModule() {
        if (msg.sender != LICENSING_MODULE) revert TotalLicenseTokenLimitHook_NotLicensingModule(msg.sender);
        _;
    }

    function name() external pure returns (string memory) {
        return "TOTAL_LICENSE_TOKEN_LIMIT_HOOK";
    }

    function setTotalLicenseTokenLimit(
        address licensorIpId,
        address licenseTemplate,
        uint256 licenseTermsId,
        uint256 limit
    ) external verifyPermission(licensorIpId) {
        bytes32 key = _key(licensorIpId, licenseTemplate, licenseTermsId);
        uint256 supply = _minted[key];
        if (limit != 0 && limit < supply) revert TotalLicenseTokenLimitHook_LimitLowerThanTotalSupply(supply, limit);
        _limits[key] = limit;
        emit SetTotalLicenseTokenLimit(licensorIpId, licenseTemplate, licenseTermsId, limit);
    }

    function beforeMintLicenseTokens(
        address,
        address licensorIpId,
        address licenseTemplate,
        uint256 licenseTermsId,
        uint256 amount,
        address,
        bytes calldata
    ) external onlyLicensingModule returns (uint256 totalMintingFee) {
        _count(_key(licensorIpId, licenseTemplate, licenseTermsId), amount);
        return _fee(licenseTemplate, licenseTermsId, amount);
    }

    function beforeRegisterDerivative(
        address,
        address,
        address parentIpId,
        address licenseTemplate,
        uint256 licenseTermsId,
        bytes calldata
    ) external onlyLicensingModule returns (uint256 mintingFee) {
        _count(_key(parentIpId, licenseTemplate, licenseTermsId), 1);
        return _fee(licenseTemplate, licenseTermsId, 1);
    }

    function calculateMintingFee(
        address,
        address,
        address licenseTemplate,
        uint256 licenseTermsId,
        uint256 amount,
        address,
        bytes calldata
    ) external view returns (uint256 totalMintingFee) {
        return _fee(licenseTemplate, licenseTermsId, amount);
    }

    function getTotalLicenseTokenLimit(address licensorIpId, address licenseTemplate, uint256 licenseTermsId)
        external
        view
        returns (uint256)
    {
        return _limits[_key(licensorIpId, licenseTemplate, licenseTermsId)];
    }

    function getTotalLicenseTokenSupply(address licensorIpId, address licenseTemplate, uint256 licenseTermsId)
        external
        view
        returns (uint256)
    {
        return _minted[_key(licensorIpId, licenseTemplate, licenseTermsId)];
    }

    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(ILicensingHook).interfaceId || interfaceId == 0x01ffc9a7;
    }

    function _count(bytes32 key, uint256 amount) private {
        uint256 limit = _limits[key];
        uint256 supply = _minted[key];
        if (limit != 0 && supply + amount > limit) {
            revert TotalLicenseTokenLimitHook_TotalLicenseTokenLimitExceeded(supply, amount, limit);
        }
        _minted[key] = supply + amount;
    }

    function _fee(address licenseTemplate, uint256 licenseTermsId, uint256 amount) private view returns (uint256) {
        (,, uint256 mintingFee,) = ILicenseTemplateCore(licenseTemplate).getRoyaltyPolicy(licenseTermsId);
        return amount * mintingFee;
    }

    function _key(address licensorIpId, address licenseTemplate, uint256 licenseTermsId)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encodePacked(licensorIpId, licenseTemplate, licenseTermsId));
    }
}
