//! CPU pinning, and the CPU time the server, the load generator, the
//! database processes and everything else on the machine spend during a
//! measurement, read from `/proc`.

use std::collections::HashMap;
use std::fs;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rustix::process::Pid;
use rustix::thread::{CpuSet, sched_getaffinity, sched_setaffinity};

/// The process name of PostgreSQL's server processes.
const POSTGRES_PROCESS: &str = "postgres";

/// Pins the calling thread, and every thread and process it starts from now
/// on, to `cpu`.
pub(super) fn pin_current_thread(cpu: usize) -> anyhow::Result<()> {
    let allowed = sched_getaffinity(None).context("reading the CPU affinity")?;
    if !allowed.is_set(cpu) {
        bail!("CPU {cpu} is not available to this process (the benchmark needs CPUs 0 and 1)");
    }
    let mut only = CpuSet::new();
    only.set(cpu);
    sched_setaffinity(None, &only).with_context(|| format!("pinning the load generator to {cpu}"))
}

/// Reads the CPU time of the processes a measurement involves.
pub(super) struct CpuMeter {
    server: Pid,
    /// Whether the database runs in processes of its own (PostgreSQL).
    has_database_processes: bool,
}

/// CPU time used so far, at one instant.
pub(super) struct CpuReading {
    at: Instant,
    server: Duration,
    driver: Duration,
    /// The CPU time of each database process, by process id.
    database: Option<HashMap<u32, Duration>>,
    /// Every CPU's busy time, all processes and the hypervisor's steal
    /// included.
    machine: Duration,
}

/// CPU use over a span of time, in cores (1.0 is one core fully busy).
#[derive(Debug, Clone, Copy)]
pub(super) struct CpuUse {
    pub(super) server: f64,
    pub(super) driver: f64,
    pub(super) database: Option<f64>,
    /// What the machine spent on anything else: other processes, the kernel
    /// on their behalf, time stolen by the hypervisor. More than a few
    /// percent means the figures are disturbed.
    pub(super) other: f64,
}

impl CpuMeter {
    pub(super) fn new(server: Pid, has_database_processes: bool) -> Self {
        Self {
            server,
            has_database_processes,
        }
    }

    pub(super) fn read(&self) -> anyhow::Result<CpuReading> {
        let at = Instant::now();
        let server = process_cpu_time(&format!("/proc/{}/stat", self.server.as_raw_nonzero()))?;
        let driver = process_cpu_time("/proc/self/stat")?;
        let database = if self.has_database_processes {
            Some(processes_cpu_times(POSTGRES_PROCESS)?)
        } else {
            None
        };
        let machine = machine_busy_time()?;
        Ok(CpuReading {
            at,
            server,
            driver,
            database,
            machine,
        })
    }
}

impl CpuUse {
    /// CPU use between two readings.
    pub(super) fn between(start: &CpuReading, end: &CpuReading) -> Self {
        let wall = end
            .at
            .duration_since(start.at)
            .as_secs_f64()
            .max(f64::EPSILON);
        let share = |used: Duration| used.as_secs_f64() / wall;
        let server = share(end.server.saturating_sub(start.server));
        let driver = share(end.driver.saturating_sub(start.driver));
        let database = start
            .database
            .as_ref()
            .zip(end.database.as_ref())
            .map(|(from, to)| share(time_since(from, to)));
        let machine = share(end.machine.saturating_sub(start.machine));
        let other = (machine - server - driver - database.unwrap_or_default()).max(0.0);
        Self {
            server,
            driver,
            database,
            other,
        }
    }
}

/// User plus system time of the process whose `stat` file is `stat_path`,
/// all its threads included.
fn process_cpu_time(stat_path: &str) -> anyhow::Result<Duration> {
    let stat = fs::read_to_string(stat_path).with_context(|| format!("reading {stat_path}"))?;
    parse_cpu_time(&stat).with_context(|| format!("parsing {stat_path}"))
}

/// The CPU time of every process named `name`, by process id. A process
/// that exits between the listing and the read is left out.
fn processes_cpu_times(name: &str) -> anyhow::Result<HashMap<u32, Duration>> {
    let mut times = HashMap::new();
    for entry in fs::read_dir("/proc").context("listing /proc")? {
        let entry = entry.context("listing /proc")?;
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse().ok())
        else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        if command_name(&stat) == Some(name) {
            times.insert(pid, parse_cpu_time(&stat).unwrap_or_default());
        }
    }
    Ok(times)
}

/// The CPU time the processes of `end` used since `start`: all of it for
/// those that started in between. Those that exited in between are lost.
fn time_since(start: &HashMap<u32, Duration>, end: &HashMap<u32, Duration>) -> Duration {
    end.iter()
        .map(|(pid, &time)| time.saturating_sub(start.get(pid).copied().unwrap_or_default()))
        .sum()
}

/// The busy time of all CPUs together, from the `cpu` line of `/proc/stat`:
/// everything but idle and I/O wait.
fn machine_busy_time() -> anyhow::Result<Duration> {
    let stat = fs::read_to_string("/proc/stat").context("reading /proc/stat")?;
    parse_machine_busy(&stat).context("parsing /proc/stat")
}

/// `user nice system idle iowait irq softirq steal …`: guest time is already
/// counted in `user`.
fn parse_machine_busy(stat: &str) -> Option<Duration> {
    let line = stat.lines().find(|line| line.starts_with("cpu "))?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    let [user, nice, system, _idle, _iowait, irq, softirq, steal] = ticks[..] else {
        return None;
    };
    Some(ticks_to_time(user + nice + system + irq + softirq + steal))
}

/// The command name in a `/proc/<pid>/stat` line: `<pid> (<name>) …`.
fn command_name(stat: &str) -> Option<&str> {
    let start = stat.find('(')?;
    let end = stat.rfind(')')?;
    stat.get(start + 1..end)
}

/// `utime + stime` from a `/proc/<pid>/stat` line, in clock ticks converted
/// to time. The name may hold spaces and parentheses, so fields are counted
/// from its closing parenthesis: `utime` and `stime` are the 12th and 13th
/// fields after it.
fn parse_cpu_time(stat: &str) -> Option<Duration> {
    let after_name = stat.get(stat.rfind(')')? + 1..)?;
    let mut fields = after_name.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(ticks_to_time(user + system))
}

/// Clock ticks (`USER_HZ`) as time.
fn ticks_to_time(ticks: u64) -> Duration {
    let ticks_per_second = rustix::param::clock_ticks_per_second().max(1);
    Duration::from_secs(ticks / ticks_per_second)
        + Duration::from_secs(ticks % ticks_per_second) / ticks_per_second as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "4242 (kinto (push)) S 1 4242 4242 0 -1 4194560 1500 0 0 0 \
                        250 50 0 0 20 0 9 0 123456 1000000 2000 18446744073709551615";

    #[test]
    fn cpu_time_counts_fields_after_the_name() {
        let ticks = rustix::param::clock_ticks_per_second();

        let time = parse_cpu_time(STAT).unwrap();

        assert_eq!(
            time,
            Duration::from_secs(300) / u32::try_from(ticks).unwrap()
        );
    }

    #[test]
    fn machine_busy_time_leaves_out_idle_and_io_wait() {
        let ticks = rustix::param::clock_ticks_per_second();
        let stat = "cpu  100 10 50 9000 40 5 5 30 0 0\ncpu0 50 5 25 4500 20 2 3 15 0 0\n";

        let busy = parse_machine_busy(stat).unwrap();

        assert_eq!(
            busy,
            Duration::from_secs(200) / u32::try_from(ticks).unwrap()
        );
    }

    #[test]
    fn time_since_counts_new_processes_whole() {
        let start = HashMap::from([(1, Duration::from_secs(5)), (2, Duration::from_secs(9))]);
        let end = HashMap::from([(1, Duration::from_secs(7)), (3, Duration::from_secs(1))]);

        assert_eq!(time_since(&start, &end), Duration::from_secs(3));
    }

    #[test]
    fn command_name_keeps_inner_parentheses() {
        assert_eq!(command_name(STAT), Some("kinto (push)"));
    }
}
