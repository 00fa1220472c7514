// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {StoryDeployable} from "./StoryDeployable.sol";

/// @title ModuleRegistry — the named modules and hooks of the suite (Story's `isRegistered` / `getModule`).
/// @notice The AccessController lets operators act only through registered modules, IP accounts accept storage
///         writes only from them, and the LicensingModule accepts only registered licensing hooks. The admin
///         (DEFAULT_ADMIN_ROLE) registers and removes modules.
contract ModuleRegistry is AccessControl, StoryDeployable {
    mapping(string name => address module) private _modules;
    mapping(address module => string name) private _names;
    mapping(address module => string moduleType) private _types;

    event ModuleAdded(string name, address indexed module, bytes4 indexed moduleTypeInterfaceId, string moduleType);
    event ModuleRemoved(string name, address indexed module);

    error ModuleRegistry__ModuleAddressZeroAddress();
    error ModuleRegistry__ModuleAddressNotContract();
    error ModuleRegistry__ModuleAlreadyRegistered();
    error ModuleRegistry__NameEmptyString();
    error ModuleRegistry__NameAlreadyRegistered();
    error ModuleRegistry__ModuleNotRegistered();

    /// @notice One-time setup by the deployer: the admin and the suite's modules (`names[i]` -> `modules[i]`).
    function initialize(address admin, string[] calldata names, address[] calldata modules) external {
        _initializeOnce(admin);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        for (uint256 i = 0; i < names.length; i++) {
            _register(names[i], modules[i], "MODULE");
        }
    }

    function registerModule(string calldata name, address moduleAddress) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _register(name, moduleAddress, "MODULE");
    }

    function registerModule(string calldata name, address moduleAddress, string calldata moduleType)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        _register(name, moduleAddress, moduleType);
    }

    function removeModule(string calldata name) external onlyRole(DEFAULT_ADMIN_ROLE) {
        address module = _modules[name];
        if (module == address(0)) revert ModuleRegistry__ModuleNotRegistered();
        delete _modules[name];
        delete _names[module];
        delete _types[module];
        emit ModuleRemoved(name, module);
    }

    function isRegistered(address moduleAddress) external view returns (bool) {
        return bytes(_names[moduleAddress]).length != 0;
    }

    function getModule(string calldata name) external view returns (address) {
        return _modules[name];
    }

    function getModuleType(address moduleAddress) external view returns (string memory) {
        return _types[moduleAddress];
    }

    function _register(string memory name, address module, string memory moduleType) private {
        if (module == address(0)) revert ModuleRegistry__ModuleAddressZeroAddress();
        if (module.code.length == 0) revert ModuleRegistry__ModuleAddressNotContract();
        if (bytes(name).length == 0) revert ModuleRegistry__NameEmptyString();
        if (_modules[name] != address(0)) revert ModuleRegistry__NameAlreadyRegistered();
        if (bytes(_names[module]).length != 0) revert ModuleRegistry__ModuleAlreadyRegistered();
        _modules[name] = module;
        _names[module] = name;
        _types[module] = moduleType;
        emit ModuleAdded(name, module, bytes4(0), moduleType);
    }
}
