// Story's TypeScript SDK (npm @story-protocol/core-sdk with viem) through every flow the local suite supports.
//
// Run by tests/story/test_sdk_typescript.py: `node ts_flows.mjs` with STORY_RPC_URL, STORY_KEY_A / STORY_KEY_B (two
// funded accounts) and STORY_MOCK_ERC721 (an open-mint ERC-721) in the environment. It uses the SDK (plus the plain
// ERC-20/721 calls a wallet makes: minting test NFTs and currency, approvals, reading a receipt) and prints one JSON
// object of what the SDK returned; the test checks it against the chain. A failing step records {error} and the run
// goes on, so one failure shows as one failing assertion.
import {
  AccessPermission,
  NativeRoyaltyPolicy,
  PILFlavor,
  StoryClient,
  WIP_TOKEN_ADDRESS,
  getSignature,
} from "@story-protocol/core-sdk";
import {
  createPublicClient,
  createWalletClient,
  encodeFunctionData,
  http,
  parseAbi,
  toFunctionSelector,
  zeroAddress,
  zeroHash,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";

const RPC = process.env.STORY_RPC_URL;
const NFT721 = process.env.STORY_MOCK_ERC721;
const MOCK_ERC20 = "0xF2104833d386a2734a4eB3B8ad6FC6812F29E38E";
const ROYALTY_MODULE = "0xD2f60c40fEbccf6311f8B47c4f2Ec6b040400086";
const ACCESS_CONTROLLER = "0xcCF37d0a503Ee1D4C11208672e622ed3DFB2275a";
const CORE_METADATA_MODULE = "0x6E81a25C99C6e8430aeC7353325EB138aFE5DC16";
const LAP = "0xBe54FB168b3c982b7AaE60dB6CF75Bd8447b390E";

const aeneid = {
  id: 1315,
  name: "aeneid (local)",
  nativeCurrency: { name: "IP", symbol: "IP", decimals: 18 },
  rpcUrls: { default: { http: [RPC] } },
};
const transport = http(RPC, { timeout: 60_000 });
const publicClient = createPublicClient({ chain: aeneid, transport });
const accountA = privateKeyToAccount(process.env.STORY_KEY_A);
const accountB = privateKeyToAccount(process.env.STORY_KEY_B);
const walletA = createWalletClient({ chain: aeneid, transport, account: accountA });
const walletB = createWalletClient({ chain: aeneid, transport, account: accountB });
const storyA = StoryClient.newClient({ chainId: "aeneid", transport, account: accountA });
const storyB = StoryClient.newClient({ chainId: "aeneid", transport, account: accountB });

const ercAbi = parseAbi([
  "function mint(address to) returns (uint256)",
  "function mint(address to, uint256 amount)",
  "function approve(address spender, uint256 amount) returns (bool)",
  "event Transfer(address indexed from, address indexed to, uint256 indexed tokenId)",
]);
const out = { a: accountA.address, b: accountB.address };

const jsonable = (value) =>
  JSON.parse(
    JSON.stringify(value, (key, v) => {
      if (key === "receipt" || key === "receipts" || key === "logs") return undefined;
      return typeof v === "bigint" ? v.toString() : v;
    }),
  );

async function step(name, fn) {
  try {
    const value = await fn();
    out[name] = jsonable(value ?? null);
    return value;
  } catch (error) {
    out[name] = { error: String(error?.shortMessage ?? error?.message ?? error).slice(0, 2000) };
    return undefined;
  }
}

async function send(wallet, request) {
  const hash = await wallet.writeContract(request);
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`wallet transaction reverted: ${hash}`);
  return receipt;
}

async function mintNft(wallet) {
  const receipt = await send(wallet, {
    address: NFT721, abi: ercAbi, functionName: "mint", args: [wallet.account.address],
  });
  return BigInt(receipt.logs[0].topics[3]);
}

async function fundAndApprove(wallet, amount, spender) {
  await send(wallet, { address: MOCK_ERC20, abi: ercAbi, functionName: "mint", args: [wallet.account.address, amount] });
  await send(wallet, { address: MOCK_ERC20, abi: ercAbi, functionName: "approve", args: [spender, amount] });
}

async function main() {
  // --- IP registration: plain and with IP metadata -------------------------------------------------------------
  const plainToken = await mintNft(walletA);
  out.plain_token = plainToken.toString();
  const plain = await step("register_plain", () =>
    storyA.ipAsset.registerIpAsset({ nft: { type: "minted", nftContract: NFT721, tokenId: plainToken } }));
  const metaToken = await mintNft(walletA);
  out.meta_token = metaToken.toString();
  await step("register_with_metadata", () =>
    storyA.ipAsset.registerIpAsset({
      nft: { type: "minted", nftContract: NFT721, tokenId: metaToken },
      ipMetadata: {
        ipMetadataURI: "ipfs://ts-ip-meta", ipMetadataHash: `0x${"aa".repeat(32)}`,
        nftMetadataURI: "ipfs://ts-nft-meta", nftMetadataHash: `0x${"bb".repeat(32)}`,
      },
    }));

  // --- PIL terms of every flavor ---------------------------------------------------------------------------------
  await step("terms_ncsr", () => storyA.license.registerNonComSocialRemixingPIL());
  const use = await step("terms_commercial_use", () =>
    storyA.license.registerCommercialUsePIL({ defaultMintingFee: 10n, currency: MOCK_ERC20, royaltyPolicyAddress: LAP }));
  const remix = await step("terms_commercial_remix", () =>
    storyA.license.registerCommercialRemixPIL({
      defaultMintingFee: 100n, currency: MOCK_ERC20, commercialRevShare: 10, royaltyPolicyAddress: LAP,
    }));
  const parent = plain?.ipId;

  // --- attach, mint licenses with and without fee ----------------------------------------------------------------
  await step("attach_ncsr", () => storyA.license.attachLicenseTerms({ ipId: parent, licenseTermsId: 1n }));
  await step("attach_commercial_use", () =>
    storyA.license.attachLicenseTerms({ ipId: parent, licenseTermsId: use.licenseTermsId }));
  await step("attach_commercial_remix", () =>
    storyA.license.attachLicenseTerms({ ipId: parent, licenseTermsId: remix.licenseTermsId }));
  await step("mint_license_free", () =>
    storyB.license.mintLicenseTokens({ licensorIpId: parent, licenseTermsId: 1n, amount: 2, receiver: accountB.address }));
  await fundAndApprove(walletB, 10_000n, ROYALTY_MODULE);
  await step("mint_license_paid", () =>
    storyB.license.mintLicenseTokens({
      licensorIpId: parent, licenseTermsId: use.licenseTermsId, amount: 3, receiver: accountB.address, maxMintingFee: 30n,
    }));
  await step("predict_fee", () =>
    storyB.license.predictMintingLicenseFee({ licensorIpId: parent, licenseTermsId: remix.licenseTermsId, amount: 2 }));

  // --- derivatives: against parent terms, and with a license token -----------------------------------------------
  const childToken = await mintNft(walletB);
  out.child_token = childToken.toString();
  const child = await step("register_child", () =>
    storyB.ipAsset.registerIpAsset({ nft: { type: "minted", nftContract: NFT721, tokenId: childToken } }));
  await step("link_derivative_terms", () =>
    storyB.ipAsset.linkDerivative({
      childIpId: child.ipId, parentIpIds: [parent], licenseTermsIds: [remix.licenseTermsId], maxMintingFee: 100n,
    }));
  const tokens = await step("mint_license_remix", () =>
    storyB.license.mintLicenseTokens({ licensorIpId: parent, licenseTermsId: remix.licenseTermsId, amount: 1 }));
  const child2Token = await mintNft(walletB);
  out.child2_token = child2Token.toString();
  const child2 = await step("register_child2", () =>
    storyB.ipAsset.registerIpAsset({ nft: { type: "minted", nftContract: NFT721, tokenId: child2Token } }));
  await step("link_derivative_tokens", () =>
    storyB.ipAsset.linkDerivative({ childIpId: child2.ipId, licenseTokenIds: tokens.licenseTokenIds }));

  // --- royalties: pay the child, collect the parent's share, claim it --------------------------------------------
  await step("pay_royalty", () =>
    storyB.royalty.payRoyaltyOnBehalf({ receiverIpId: child.ipId, payerIpId: child2.ipId, token: MOCK_ERC20, amount: 1000n }));
  await step("claimable_before", () =>
    storyA.royalty.claimableRevenue({ ipId: parent, claimer: parent, token: MOCK_ERC20 }));
  await step("claim_all_revenue", () =>
    storyA.royalty.claimAllRevenue({
      ancestorIpId: parent, claimer: parent, childIpIds: [child.ipId], royaltyPolicies: [LAP], currencyTokens: [MOCK_ERC20],
    }));

  // --- SPG collections and the workflows -------------------------------------------------------------------------
  const collection = await step("create_collection", () =>
    storyA.nftClient.createNFTCollection({
      name: "TS Flows", symbol: "TSF", isPublicMinting: true, mintOpen: true, mintFeeRecipient: accountA.address,
      contractURI: "ipfs://ts-collection", maxSupply: 100,
    }));
  const spg = collection?.spgNftContract;
  await step("mint_and_register", () =>
    storyA.ipAsset.registerIpAsset({
      nft: { type: "mint", spgNftContract: spg, recipient: accountB.address },
      ipMetadata: { ipMetadataURI: "ipfs://ts-minted-ip", ipMetadataHash: `0x${"cc".repeat(32)}` },
    }));
  const wipTerms = PILFlavor.commercialRemix({
    defaultMintingFee: 50n, currency: WIP_TOKEN_ADDRESS, commercialRevShare: 20, royaltyPolicy: NativeRoyaltyPolicy.LAP,
  });
  const config = {
    isSet: true, mintingFee: 60n, licensingHook: zeroAddress, hookData: zeroHash, commercialRevShare: 25,
    disabled: false, expectMinimumGroupRewardShare: 0, expectGroupRewardPool: zeroAddress,
  };
  const attached = await step("mint_register_attach", () =>
    storyA.ipAsset.registerIpAsset({
      nft: { type: "mint", spgNftContract: spg }, licenseTermsData: [{ terms: wipTerms, licensingConfig: config }],
    }));
  const ownedToken = await mintNft(walletA);
  out.owned_token = ownedToken.toString();
  await step("register_attach_with_sig", () =>
    storyA.ipAsset.registerIpAsset({
      nft: { type: "minted", nftContract: NFT721, tokenId: ownedToken },
      licenseTermsData: [{ terms: wipTerms, licensingConfig: config }],
      ipMetadata: { ipMetadataURI: "ipfs://ts-owned" },
    }));
  await step("licensing_config", () =>
    storyA.license.getLicensingConfig({ ipId: attached.ipId, licenseTermsId: attached.licenseTermsIds[0] }));
  // B holds no WIP: the SDK wraps IP into WIP and pays through Multicall3 (aggregate3Value) in one transaction.
  await step("mint_license_wip_autowrap", () =>
    storyB.license.mintLicenseTokens({
      licensorIpId: attached.ipId, licenseTermsId: attached.licenseTermsIds[0], amount: 1, receiver: accountB.address,
    }));
  await step("mint_derivative_wip_fee", () =>
    storyB.ipAsset.registerDerivativeIpAsset({
      nft: { type: "mint", spgNftContract: spg },
      derivData: { parentIpIds: [attached.ipId], licenseTermsIds: [attached.licenseTermsIds[0]] },
    }));
  await step("mint_with_royalty_shares", () =>
    storyA.ipAsset.registerIpAsset({
      nft: { type: "mint", spgNftContract: spg },
      licenseTermsData: [{ terms: wipTerms, licensingConfig: config }],
      royaltyShares: [{ recipient: accountB.address, percentage: 30 }],
    }));
  await step("set_max_license_tokens", () =>
    storyA.license.setMaxLicenseTokens({ ipId: attached.ipId, licenseTermsId: attached.licenseTermsIds[0], maxLicenseTokens: 2 }));
  // the hook counts from when it was configured: two more licenses fit, a third does not
  await step("mint_up_to_the_limit", () =>
    storyB.license.mintLicenseTokens({
      licensorIpId: attached.ipId, licenseTermsId: attached.licenseTermsIds[0], amount: 2, receiver: accountB.address,
    }));
  await step("mint_over_the_limit", () =>
    storyB.license.mintLicenseTokens({
      licensorIpId: attached.ipId, licenseTermsId: attached.licenseTermsIds[0], amount: 1, receiver: accountB.address,
    }));

  // --- WIP, IP accounts, permissions, unsupported modules --------------------------------------------------------
  await step("wip_deposit", () => storyA.wipClient.deposit({ amount: 5000n }));
  await step("wip_transfer", () => storyA.wipClient.transfer({ to: accountB.address, amount: 1200n }));
  await step("wip_withdraw", () => storyA.wipClient.withdraw({ amount: 800n }));
  await step("set_permission", () =>
    storyA.permission.setPermission({
      ipId: parent, signer: accountB.address, to: CORE_METADATA_MODULE, permission: AccessPermission.ALLOW,
      func: "function setAll(address,string,bytes32,bytes32)",
    }));
  await step("execute_with_sig", async () => {
    // A signs, B submits: a persistent permission for B on the metadata module's setMetadataURI
    const data = encodeFunctionData({
      abi: parseAbi(["function setPermission(address,address,address,bytes4,uint8)"]),
      functionName: "setPermission",
      args: [parent, accountB.address, CORE_METADATA_MODULE,
             toFunctionSelector("function setMetadataURI(address,string,bytes32)"), 1],
    });
    const state = await storyA.ipAccount.getIpAccountNonce(parent);
    const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600);
    const { signature } = await getSignature({
      state, to: ACCESS_CONTROLLER, encodeData: data, wallet: walletA, verifyingContract: parent, deadline, chainId: 1315,
    });
    return storyB.ipAccount.executeWithSig({
      ipId: parent, to: ACCESS_CONTROLLER, data, signer: accountA.address, deadline, signature,
    });
  });
  await step("set_metadata_as_operator", async () => {
    const receipt = await send(walletB, {
      address: CORE_METADATA_MODULE,
      abi: parseAbi(["function setMetadataURI(address ipId, string metadataURI, bytes32 metadataHash)"]),
      functionName: "setMetadataURI",
      args: [parent, "ipfs://ts-by-operator", `0x${"dd".repeat(32)}`],
    });
    return receipt.transactionHash;
  });
  await step("raise_dispute", () =>
    storyA.dispute.raiseDispute({
      targetIpId: parent, cid: "QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR", targetTag: "IMPROPER_REGISTRATION",
      liveness: 2592000, bond: 0, txOptions: { waitForTransaction: true },
    }));
  console.log(JSON.stringify(out));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
