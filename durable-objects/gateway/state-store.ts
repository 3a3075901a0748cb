import { type DurableGatewayState, INITIAL_DURABLE_STATE } from "../../shared/gateway/machine";

/**
 * The Gateway state that survives eviction (session id, resume URL, last
 * sequence, fatal stop, failures, reconnect times, IDENTIFY budget), one row
 * in the object's SQLite. Synchronous, so a dispatch's sequence number is
 * stored in the same step that records the dispatch.
 */
export class GatewayStateStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec("create table if not exists gateway_state (id integer primary key check (id = 1), value text not null)");
  }

  load(): DurableGatewayState {
    const row = this.sql.exec<{ value: string }>("select value from gateway_state where id = 1").toArray()[0];
    if (!row) return INITIAL_DURABLE_STATE;
    // Fields added later take their initial value in objects stored before them.
    return { ...INITIAL_DURABLE_STATE, ...(JSON.parse(row.value) as Partial<DurableGatewayState>) };
  }

  save(state: DurableGatewayState): void {
    this.sql.exec(
      "insert into gateway_state (id, value) values (1, ?) on conflict(id) do update set value = excluded.value",
      JSON.stringify(state),
    );
  }
}
