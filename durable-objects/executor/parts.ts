import { database } from "../../platform/db/client";
import { forCommunity, type TenantRepository } from "../../platform/db/tenant/for-community";
import { hubEventSink } from "../../platform/execution/event-sink";
import { type MemberNotice, notifyMember } from "../../platform/notifications/notify-member";
import { discordIdsFromUsers, rememberingDiscordIds } from "../../platform/notifications/notify-queue";
import { configFor } from "../../shared/config";
import type { EventSink } from "../../shared/execution/events";
import { type Logger, rootLogger } from "../../shared/logging";
import { Confirmations } from "./confirmations";
import { FanOutJournal } from "./fan-out-journal";
import { FillTracking } from "./fill-tracking";
import { HeldPositions } from "./held-positions";
import { assertOwnCommunity } from "./identity";
import { KillSwitch } from "./kill-switch";
import { ExecutorLocalState } from "./local-state";
import { MemberCloses } from "./member-close";
import { OrderBadges } from "./order-badges";
import { OrderDispatch } from "./order-dispatch";
import { OrderFlows } from "./order-flows";
import { OrderSending } from "./order-sending";
import { OrderOutbox } from "./outbox";
import { PaperDesk } from "./paper-desk";
import { ProviderBook } from "./provider-book";
import { SignalFanOut } from "./signal-fan-out";
import { SignalPipeline } from "./signal-pipeline";
import { Withdrawals } from "./signal-withdrawal";
import { SkipDigest } from "./skip-digest";
import { TradeManagementDesk } from "./trade-management";

/** What the executor object lends its parts; each is read at its use, so the object stays their one source. */
export interface ExecutorHost {
  id: Pick<DurableObjectId, "name">;
  env(): Env;
  scheduleAlarm(): Promise<void>;
  waitUntil(promise: Promise<unknown>): void;
}

/**
 * The executor's parts, built once per object instance: its own SQLite state, the paper desk, the kill switch,
 * the fan-out's journal and outbox, and the services built on them. Each module takes only the parts it uses.
 */
export interface ExecutorParts {
  env(): Env;
  logger: Logger;
  /** Events for the community's RealtimeHub: queued, batched per turn and sent in order, never awaited. */
  events: EventSink;
  /** Tells a member something: a DM, also on their realtime `notifications` channel. */
  notify(notice: MemberNotice): Promise<void>;
  local: ExecutorLocalState;
  paper: PaperDesk;
  killSwitch: KillSwitch;
  journal: FanOutJournal;
  outbox: OrderOutbox;
  book: ProviderBook;
  badges: OrderBadges;
  digest: SkipDigest;
  dispatch: OrderDispatch;
  fanOut: SignalFanOut;
  flows: OrderFlows;
  pipeline: SignalPipeline;
  confirmations: Confirmations;
  held: HeldPositions;
  sending: OrderSending;
  tracking: FillTracking;
  withdrawals: Withdrawals;
  /** A provider's trade-management messages (cancel, move the stop, close part or all of a signal's trades). */
  management: TradeManagementDesk;
  /** A member's /close: their positions in a symbol, or all of them, flattened and their working orders canceled. */
  closes: MemberCloses;
  /** The community's repository, after checking the caller named this object's own community. */
  tenant(communityId: string): TenantRepository;
  scheduleAlarm(): Promise<void>;
}

export function assembleExecutor(sql: SqlStorage, host: ExecutorHost): ExecutorParts {
  const logger = rootLogger.child({ component: "community-executor" });
  const local = new ExecutorLocalState(sql);
  let tenant: TenantRepository | null = null;
  const events = hubEventSink({ env: host.env(), logger, waitUntil: (promise) => host.waitUntil(promise) });
  // Every order tells its member something: each member's Discord id is read once per object, not once per notice.
  const discordIdOf = rememberingDiscordIds(discordIdsFromUsers(host.env()));
  const base = {
    env: () => host.env(),
    logger,
    events,
    notify: (notice: MemberNotice) => notifyMember({ env: host.env(), events, discordIdOf }, notice),
    local,
    paper: new PaperDesk(local, () => configFor(host.env()), logger),
    killSwitch: new KillSwitch(local, logger),
    journal: new FanOutJournal(sql),
    outbox: new OrderOutbox(sql),
    book: new ProviderBook(sql),
    tenant: (communityId: string) => {
      // Built once, after the first check: the repositories hold nothing but the community id and the handle, every
      // call asks for them, and the object's community never changes once checked.
      if (tenant?.communityId === communityId) return tenant;
      assertOwnCommunity(host.id, local, communityId);
      tenant = forCommunity(database(host.env().DB), communityId);
      return tenant;
    },
    scheduleAlarm: () => host.scheduleAlarm(),
    waitUntil: (promise: Promise<unknown>) => host.waitUntil(promise),
  };
  const core = { ...base, badges: new OrderBadges(base), digest: new SkipDigest(sql) };
  const dispatch = new OrderDispatch(core);
  const held = new HeldPositions({ ...core, dispatch }, sql);
  const fanOut = new SignalFanOut({ ...core, dispatch, held });
  const flows = new OrderFlows(core);
  const confirmations = new Confirmations({ ...core, dispatch, flows, held });
  const withdrawals = new Withdrawals({ ...core, fanOut, flows });
  return {
    ...core,
    dispatch,
    fanOut,
    flows,
    confirmations,
    held,
    pipeline: new SignalPipeline({ ...core, dispatch, fanOut, flows }),
    sending: new OrderSending({ ...core, flows, withdrawals }),
    tracking: new FillTracking({ ...core, flows }),
    withdrawals,
    management: new TradeManagementDesk(sql, { ...core, dispatch, flows, held }),
    closes: new MemberCloses(sql, { ...core, dispatch, flows, confirmations }),
  };
}

/**
 * The alarm is set no closer than this while nothing is overdue: each run has its fixed reads (the schedules, the
 * sweeper's tables), and follow-ups of orders sent moments apart fall due moments apart, so one run takes all those
 * due within it instead of one run each. A follow-up or a deadline is at most this late.
 */
export const ALARM_SPACING_MS = 250;
/** Work already overdue (a run that took its limit and left some behind) runs again this soon. */
const OVERDUE_ALARM_MS = 10;

/** When to set the alarm for work next due at `next`. */
export function alarmTimeFor(next: number, now: number): number {
  return next <= now ? now + OVERDUE_ALARM_MS : Math.max(next, now + ALARM_SPACING_MS);
}

/**
 * When the alarm is next due: the earliest follow-up, confirmation deadline or reservation check, or the
 * sweeper's next work, which waits at least a second so that an alarm never spins on a run still under way.
 */
export function nextAlarmAt(parts: Pick<ExecutorParts, "local" | "journal" | "outbox">, now: number): number | null {
  const sweeps = [parts.journal.nextDue(), parts.outbox.nextDue()].filter((due): due is number => due !== null);
  const sweepAt = sweeps.length > 0 ? Math.max(Math.min(...sweeps), now + 1_000) : null;
  const dues = [parts.local.nextDue(), sweepAt].filter((due): due is number => due !== null);
  return dues.length > 0 ? Math.min(...dues) : null;
}
