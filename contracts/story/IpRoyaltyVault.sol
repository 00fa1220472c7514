// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";

import {IRoyaltyModuleCore} from "./StoryInterfaces.sol";

/// @title IpRoyaltyVault — one IP's revenue, shared among the holders of its royalty tokens (Story's v1.3 vault).
/// @notice The vault is itself an ERC-20: 100,000,000 royalty tokens ("RT", 6 decimals) = 100% of the IP's
///         revenue, minted once at deployment (to the IP account). Revenue arrives through the RoyaltyModule or a
///         whitelisted royalty policy (`updateVaultBalance`, which accumulates it per token); each holder may claim
///         `accumulated * balance / supply - alreadyAccountedFor` (`claimableRevenue(claimer, token)`), paid to the
///         claimer by anyone calling `claimRevenueOnBehalf*`. Moving royalty tokens keeps revenue earned so far
///         with the sender: only later revenue follows the tokens.
/// @dev Deployed as EIP-1167 clones of this code by the RoyaltyModule (`ROYALTY_MODULE` is an immutable of the
///      implementation), initialized once by it. Names are constants because clones share no constructor state.
contract IpRoyaltyVault is ERC20, ReentrancyGuard {
    using SafeERC20 for IERC20;
    using EnumerableSet for EnumerableSet.AddressSet;

    /// @notice The royalty module that deploys and feeds the vaults.
    address public immutable ROYALTY_MODULE;

    address private _ipId;
    EnumerableSet.AddressSet private _tokens;
    mapping(address token => uint256) private _accBalances;
    mapping(address token => mapping(address claimer => int256)) private _debt;

    event RevenueTokenAddedToVault(address token, uint256 amount);
    event RevenueTokenClaimed(address claimer, address token, uint256 amount);
    event RevenueDebtUpdated(address claimer, address token, int256 revenueDebt);

    error IpRoyaltyVault__NotRoyaltyModule(address caller);
    error IpRoyaltyVault__AlreadyInitialized();
    error IpRoyaltyVault__NotAllowedToAddTokenToVault();
    error IpRoyaltyVault__NotWhitelistedRoyaltyToken();
    error IpRoyaltyVault__ZeroAmount();
    error IpRoyaltyVault__NoClaimableTokens();
    error IpRoyaltyVault__VaultsMustClaimAsSelf();
    error IpRoyaltyVault__InvalidTargetIpId();
    error IpRoyaltyVault__VaultDoesNotBelongToAnAncestor();
    error IpRoyaltyVault__SameFromToAddress(address vault, address from);
    error IpRoyaltyVault__ZeroBalance(address vault, address account);
    error IpRoyaltyVault__InsufficientBalance(address vault, address account, uint256 amount);
    error IpRoyaltyVault__NegativeValueUnsafeCastingToUint256();

    constructor(address royaltyModule) ERC20("Royalty Token", "RT") {
        ROYALTY_MODULE = royaltyModule;
    }

    /// @notice Called once by the RoyaltyModule on a fresh clone: binds the IP and mints the royalty tokens.
    function initialize(string memory, string memory, uint32 supply, address ipIdAddress, address rtReceiver) external {
        if (msg.sender != ROYALTY_MODULE) revert IpRoyaltyVault__NotRoyaltyModule(msg.sender);
        if (_ipId != address(0)) revert IpRoyaltyVault__AlreadyInitialized();
        _ipId = ipIdAddress;
        _mint(rtReceiver, supply);
    }

    function name() public pure override returns (string memory) {
        return "Royalty Token";
    }

    function symbol() public pure override returns (string memory) {
        return "RT";
    }

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @notice Records revenue that was (or is being) transferred in (RoyaltyModule or a whitelisted policy).
    function updateVaultBalance(address token, uint256 amount) external {
        IRoyaltyModuleCore module = IRoyaltyModuleCore(ROYALTY_MODULE);
        if (msg.sender != ROYALTY_MODULE && !module.isWhitelistedRoyaltyPolicy(msg.sender)) {
            revert IpRoyaltyVault__NotAllowedToAddTokenToVault();
        }
        _addRevenue(token, amount);
    }

    function claimRevenueOnBehalf(address claimer, address token) external nonReentrant returns (uint256) {
        address[] memory tokenList = new address[](1);
        tokenList[0] = token;
        return _claim(claimer, tokenList)[0];
    }

    function claimRevenueOnBehalfByTokenBatch(address claimer, address[] calldata tokenList)
        external
        nonReentrant
        returns (uint256[] memory)
    {
        return _claim(claimer, tokenList);
    }

    /// @notice Claims, into this vault, the revenue this vault holds royalty tokens for in a descendant's vault.
    function claimByTokenBatchAsSelf(address[] calldata tokenList, address targetIpId) external {
        IRoyaltyModuleCore module = IRoyaltyModuleCore(ROYALTY_MODULE);
        address targetVault = module.ipRoyaltyVaults(targetIpId);
        if (targetVault == address(0)) revert IpRoyaltyVault__InvalidTargetIpId();
        if (!module.hasAncestorIp(targetIpId, _ipId)) revert IpRoyaltyVault__VaultDoesNotBelongToAnAncestor();
        uint256[] memory claimed = IpRoyaltyVault(targetVault).claimRevenueOnBehalfByTokenBatch(address(this), tokenList);
        for (uint256 i = 0; i < tokenList.length; i++) {
            _addRevenue(tokenList[i], claimed[i]);
        }
    }

    function claimableRevenue(address claimer, address token) external view returns (uint256) {
        return _pendingScaled(claimer, token) / totalSupply();
    }

    function ipId() external view returns (address) {
        return _ipId;
    }

    function tokens() external view returns (address[] memory) {
        return _tokens.values();
    }

    function vaultAccBalances(address token) external view returns (uint256) {
        return _accBalances[token];
    }

    function claimerRevenueDebt(address claimer, address token) external view returns (int256) {
        return _debt[token][claimer];
    }

    // --- internals --------------------------------------------------------------------------------------------------
    function _addRevenue(address token, uint256 amount) private {
        if (!IRoyaltyModuleCore(ROYALTY_MODULE).isWhitelistedRoyaltyToken(token)) {
            revert IpRoyaltyVault__NotWhitelistedRoyaltyToken();
        }
        if (amount == 0) revert IpRoyaltyVault__ZeroAmount();
        _tokens.add(token);
        _accBalances[token] += amount;
        emit RevenueTokenAddedToVault(token, amount);
    }

    function _claim(address claimer, address[] memory tokenList) private returns (uint256[] memory claimed) {
        if (IRoyaltyModuleCore(ROYALTY_MODULE).isIpRoyaltyVault(claimer) && msg.sender != claimer) {
            revert IpRoyaltyVault__VaultsMustClaimAsSelf();
        }
        uint256 supply = totalSupply();
        claimed = new uint256[](tokenList.length);
        for (uint256 i = 0; i < tokenList.length; i++) {
            address token = tokenList[i];
            uint256 amount = _pendingScaled(claimer, token) / supply;
            if (amount == 0) revert IpRoyaltyVault__NoClaimableTokens();
            claimed[i] = amount;
            _debt[token][claimer] += int256(amount * supply);
            emit RevenueDebtUpdated(claimer, token, _debt[token][claimer]);
            emit RevenueTokenClaimed(claimer, token, amount);
            IERC20(token).safeTransfer(claimer, amount);
        }
    }

    /// @dev The claimer's unclaimed revenue in `token`, times the total supply (exact integer arithmetic).
    function _pendingScaled(address claimer, address token) private view returns (uint256) {
        int256 pending = int256(_accBalances[token] * balanceOf(claimer)) - _debt[token][claimer];
        if (pending < 0) revert IpRoyaltyVault__NegativeValueUnsafeCastingToUint256();
        return uint256(pending);
    }

    /// @dev Keeps revenue earned before a royalty-token transfer with the sender.
    function _update(address from, address to, uint256 amount) internal override {
        if (from != address(0) && to != address(0)) {
            if (from == to) revert IpRoyaltyVault__SameFromToAddress(address(this), from);
            uint256 fromBalance = balanceOf(from);
            if (fromBalance == 0) revert IpRoyaltyVault__ZeroBalance(address(this), from);
            if (fromBalance < amount) revert IpRoyaltyVault__InsufficientBalance(address(this), from, amount);
            address[] memory list = _tokens.values();
            for (uint256 i = 0; i < list.length; i++) {
                address token = list[i];
                uint256 acc = _accBalances[token];
                int256 pendingFrom = int256(_pendingScaled(from, token));
                int256 pendingTo = int256(_pendingScaled(to, token));
                _debt[token][to] = int256(acc * (balanceOf(to) + amount)) - pendingTo;
                _debt[token][from] = int256(acc * (fromBalance - amount)) - pendingFrom;
                emit RevenueDebtUpdated(to, token, _debt[token][to]);
                emit RevenueDebtUpdated(from, token, _debt[token][from]);
            }
        }
        super._update(from, to, amount);
    }
}
