import type { Pool } from 'pg';

/** Whether a process runs on this host now. */
export function isAlive(pid: number | null): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The worker processes of a provisioned pool running now, by the pids in the agent pool's record. */
export async function aliveWorkerIds(db: Pool, agentPoolSchema: string, agentType: string): Promise<string[]> {
  const { rows } = await db.query(`SELECT worker_id, pid FROM ${agentPoolSchema}.pool_worker_processes WHERE agent_type = $1`, [agentType]);
  return rows.filter((r) => isAlive(r.pid)).map((r) => r.worker_id as string).sort();
}
