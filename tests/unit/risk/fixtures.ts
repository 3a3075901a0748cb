import { PAPER_RISK_CAPABILITIES } from "../../../shared/brokers/paper/engine";
import type {
  AccountSnapshot,
  DecideInput,
  Decision,
  PlaceDecision,
  RiskAccount,
  RiskLimits,
  RiskPosition,
  RiskSignal,
  SkipDecision,
} from "../../../shared/risk";
import { RISK_DEFAULTS } from "../../../shared/risk";

export const NOW = Date.UTC(2026, 2, 10, 15, 30);

export function signal(overrides: Partial<RiskSignal> = {}): RiskSignal {
  return {
    action: "buy",
    assetClass: "equity",
    symbol: "AAPL",
    option: null,
    orderType: "limit",
    entry: { price: 100 },
    quantity: null,
    quantityPercent: null,
    stopLoss: 95,
    takeProfits: [{ price: 110, percent: null }],
    leverage: null,
    timeInForce: null,
    ...overrides,
  };
}

export function snapshot(overrides: Partial<AccountSnapshot> = {}): AccountSnapshot {
  return {
    equity: 100_000,
    startOfDayEquity: 100_000,
    buyingPower: 200_000,
    positions: [],
    ordersToday: 0,
    ...overrides,
  };
}

export function paperAccount(overrides: Partial<RiskAccount> = {}, snap: Partial<AccountSnapshot> = {}): RiskAccount {
  return {
    id: "paper-1",
    broker: "paper",
    mode: "paper",
    status: "active",
    capabilities: { ...PAPER_RISK_CAPABILITIES, fractional: false },
    snapshot: snapshot(snap),
    ...overrides,
  };
}

export function position(overrides: Partial<RiskPosition> = {}): RiskPosition {
  return {
    assetClass: "equity",
    symbol: "AAPL",
    option: null,
    direction: "long",
    quantity: 40,
    marketPrice: 100,
    ...overrides,
  };
}

export function limits(overrides: Partial<RiskLimits> = {}): RiskLimits {
  return { ...RISK_DEFAULTS, allowedAssetClasses: [...RISK_DEFAULTS.allowedAssetClasses], ...overrides };
}

export function input(overrides: Partial<DecideInput> = {}): DecideInput {
  return {
    signal: signal(),
    sizing: null,
    limits: limits(),
    member: { tradingMode: "paper", paperOnly: false },
    accounts: [paperAccount()],
    quotePrice: 100,
    marketOpen: true,
    now: NOW,
    ...overrides,
  };
}

export function placed(decision: Decision): PlaceDecision {
  if (decision.kind !== "place") throw new Error(`expected place, got skip ${decision.reason}: ${decision.message}`);
  return decision;
}

export function skipped(decision: Decision): SkipDecision {
  if (decision.kind !== "skip") throw new Error(`expected skip, got place ${JSON.stringify(decision.intents)}`);
  return decision;
}

export function leg(decision: PlaceDecision, name: string) {
  const found = decision.intents.find((intent) => intent.leg === name);
  if (!found) throw new Error(`no ${name} leg in ${decision.intents.map((i) => i.leg).join(", ")}`);
  return found;
}
