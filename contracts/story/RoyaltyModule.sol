// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

import {IpRoyaltyVault} from "./IpRoyaltyVault.sol";
import {IIPAssetRegistryLookup} from "./StoryInterfaces.sol";
import {StoryDeployable} from "./StoryDeployable.sol";

/// @title RoyaltyModule — moves ERC-20 revenue into one vault per IP asset, with Story's selectors and events.
/// @notice `payRoyaltyOnBehalf(receiverIpId, payerIpId, token, amount)` lets anyone pay an IP (payer approves this
///         module first, as on Story); `payLicenseMintingFee` is the LicensingModule's path for minting fees (the
///         payer approves this module, exactly as Story users approve the RoyaltyModule for WIP). Tokens must be
///         whitelisted by the admin, as on Story. The vault of an IP is deployed on its first payment.
/// @dev This local suite keeps no royalty graph (no LAP/LRP policies): revenue goes to the receiving IP's vault.
contract RoyaltyModule is AccessControl, ReentrancyGuard, StoryDeployable {
    using SafeERC20 for IERC20;

    bytes32 public constant LICENSING_MODULE_ROLE = keccak256("LICENSING_MODULE_ROLE");

    /// @notice The IP asset registry the receivers must be registered in.
    address public immutable IP_ASSET_REGISTRY;

    mapping(address ipId => address vault) public ipRoyaltyVaults;
    mapping(address vault => bool) public isIpRoyaltyVault;
    mapping(address token => bool) public isWhitelistedRoyaltyToken;
    mapping(address ipId => mapping(address token => uint256)) public totalRevenueTokensReceived;

    event RoyaltyTokenWhitelistUpdated(address token, bool allowed);
    event RoyaltyPaid(address receiverIpId, address payerIpId, address sender, address token, uint256 amount);
    event LicenseMintingFeePaid(address receiverIpId, address payerAddress, address token, uint256 amount);
    event IpRoyaltyVaultDeployed(address ipId, address ipRoyaltyVault);

    error RoyaltyModule__NotWhitelistedRoyaltyToken(address token);
    error RoyaltyModule__NotRegisteredIpId(address ipId);
    error RoyaltyModule__ZeroAmount();

    constructor(address ipAssetRegistry) {
        IP_ASSET_REGISTRY = ipAssetRegistry;
    }

    /// @notice One-time setup by the deployer: admin, the licensing module, and the first whitelisted currencies.
    function initialize(address admin, address licensingModule, address[] calldata royaltyTokens) external {
        _initializeOnce(admin);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(LICENSING_MODULE_ROLE, licensingModule);
        for (uint256 i = 0; i < royaltyTokens.length; i++) {
            _whitelist(royaltyTokens[i], true);
        }
    }

    function whitelistRoyaltyToken(address token, bool allowed) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _whitelist(token, allowed);
    }

    /// @notice Pays `amount` of `token` from the caller into the vault of `receiverIpId`.
    function payRoyaltyOnBehalf(address receiverIpId, address payerIpId, address token, uint256 amount)
        external
        nonReentrant
    {
        address vault = _receive(receiverIpId, token, amount);
        emit RoyaltyPaid(receiverIpId, payerIpId, msg.sender, token, amount);
        IERC20(token).safeTransferFrom(msg.sender, vault, amount);
    }

    /// @notice Collects a license minting fee from `payerAddress` into the licensor's vault (licensing module only).
    function payLicenseMintingFee(address receiverIpId, address payerAddress, address token, uint256 amount)
        external
        nonReentrant
        onlyRole(LICENSING_MODULE_ROLE)
    {
        address vault = _receive(receiverIpId, token, amount);
        emit LicenseMintingFeePaid(receiverIpId, payerAddress, token, amount);
        IERC20(token).safeTransferFrom(payerAddress, vault, amount);
    }

    function _receive(address receiverIpId, address token, uint256 amount) private returns (address vault) {
        if (amount == 0) revert RoyaltyModule__ZeroAmount();
        if (!isWhitelistedRoyaltyToken[token]) revert RoyaltyModule__NotWhitelistedRoyaltyToken(token);
        if (!IIPAssetRegistryLookup(IP_ASSET_REGISTRY).isRegistered(receiverIpId)) {
            revert RoyaltyModule__NotRegisteredIpId(receiverIpId);
        }
        vault = ipRoyaltyVaults[receiverIpId];
        if (vault == address(0)) {
            vault = address(new IpRoyaltyVault(receiverIpId));
            ipRoyaltyVaults[receiverIpId] = vault;
            isIpRoyaltyVault[vault] = true;
            emit IpRoyaltyVaultDeployed(receiverIpId, vault);
        }
        totalRevenueTokensReceived[receiverIpId][token] += amount;
    }

    function _whitelist(address token, bool allowed) private {
        isWhitelistedRoyaltyToken[token] = allowed;
        emit RoyaltyTokenWhitelistUpdated(token, allowed);
    }
}
