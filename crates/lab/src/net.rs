//! Socket tricks the censor needs without root: resets, a per-source SYN
//! blackhole, byte-rate throttling, and replaying bytes already read.

use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use socket2::{Domain, Protocol, SockRef, Socket, Type};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

use crate::LabError;

/// How many times the lab retries when an OS-chosen port is taken on a second address.
const PORT_PAIR_ATTEMPTS: usize = 64;

/// A blocking-mode-free TCP listener socket bound to `addr`.
pub(crate) fn tcp_listener(
    addr: SocketAddrV4,
    backlog: i32,
    reuseport: bool,
) -> io::Result<Socket> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    if reuseport {
        socket.set_reuse_port(true)?;
    }
    socket.bind(&SocketAddr::V4(addr).into())?;
    socket.listen(backlog)?;
    socket.set_nonblocking(true)?;
    Ok(socket)
}

/// Converts a bound socket to a tokio listener (needs a runtime context).
pub(crate) fn into_tokio(socket: Socket) -> io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::from_std(socket.into())
}

/// The port a socket was bound to.
pub(crate) fn local_port(socket: &Socket) -> io::Result<u16> {
    socket
        .local_addr()?
        .as_socket()
        .map(|a| a.port())
        .ok_or_else(|| io::Error::other("socket has no inet address"))
}

/// Binds a listener at `first:0` and another at `second:<same port>`,
/// retrying with new OS-chosen ports if the second bind collides.
pub(crate) fn tcp_listener_pair(
    first: Ipv4Addr,
    second: Ipv4Addr,
) -> Result<(Socket, Socket), LabError> {
    let mut last = None;
    for _ in 0..PORT_PAIR_ATTEMPTS {
        let a = tcp_listener(SocketAddrV4::new(first, 0), 1024, false)
            .map_err(|e| LabError::socket(format!("bind {first}:0"), e))?;
        let port = local_port(&a).map_err(|e| LabError::socket("local_addr", e))?;
        match tcp_listener(SocketAddrV4::new(second, port), 1024, false) {
            Ok(b) => return Ok((a, b)),
            Err(e) => last = Some(e),
        }
    }
    Err(LabError::socket(
        format!("bind {second} on the port of {first}"),
        last.unwrap_or_else(|| io::Error::other("no attempt made")),
    ))
}

/// Closes a TCP connection with a reset (SO_LINGER 0 then close).
pub(crate) fn reset(stream: TcpStream) {
    if let Err(e) = SockRef::from(&stream).set_linger(Some(Duration::ZERO)) {
        tracing::warn!(error = %e, "could not set SO_LINGER 0; closing normally");
    }
    drop(stream);
}

/// A listener whose SYNs from one source address are never answered.
///
/// Two sockets share the port with SO_REUSEPORT. A classic BPF program
/// attached with SO_ATTACH_REUSEPORT_CBPF reads the IPv4 source address of
/// each SYN and steers the censored source to the second socket, a "trap":
/// it listens with a backlog of 0, and one connection from the censored
/// source that nobody accepts fills it. Linux drops SYNs to a listener whose
/// accept queue is full, so the censored client retransmits until its
/// connect times out, as behind a real blackhole. Every other source goes to
/// the first socket, which is served normally.
pub(crate) struct Blackhole {
    /// The trap socket (kept open for the lab's lifetime).
    _trap: Socket,
    /// The connection that fills the trap's accept queue.
    _filler: std::net::TcpStream,
}

impl Blackhole {
    /// Builds the pair on `ip:<OS-chosen port>` for `censored` sources;
    /// returns the socket that serves everybody else, and the trap to keep
    /// alive as long as the lab runs.
    pub fn bind(ip: Ipv4Addr, censored: Ipv4Addr) -> Result<(Socket, Blackhole), LabError> {
        let serving = tcp_listener(SocketAddrV4::new(ip, 0), 1024, true)
            .map_err(|e| LabError::socket(format!("bind {ip}:0 (reuseport)"), e))?;
        let port = local_port(&serving).map_err(|e| LabError::socket("local_addr", e))?;
        let trap = tcp_listener(SocketAddrV4::new(ip, port), 0, true)
            .map_err(|e| LabError::socket(format!("bind trap {ip}:{port}"), e))?;
        attach_source_steering(&serving, censored)?;
        let filler = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))
            .map_err(|e| LabError::socket("filler socket", e))?;
        filler
            .bind(&SocketAddr::V4(SocketAddrV4::new(censored, 0)).into())
            .map_err(|e| LabError::socket(format!("bind filler {censored}:0"), e))?;
        filler
            .connect_timeout(
                &SocketAddr::V4(SocketAddrV4::new(ip, port)).into(),
                Duration::from_secs(2),
            )
            .map_err(|e| LabError::socket(format!("filler connect {ip}:{port}"), e))?;
        Ok((
            serving,
            Blackhole {
                _trap: trap,
                _filler: filler.into(),
            },
        ))
    }
}

#[cfg(target_os = "linux")]
fn attach_source_steering(socket: &Socket, censored: Ipv4Addr) -> Result<(), LabError> {
    use std::os::fd::AsRawFd;
    // Classic BPF, run by the kernel on each SYN to pick a socket of the
    // reuseport group by index (0 = first to listen = serving, 1 = trap):
    //   ld  [SKF_NET_OFF + 12]   ; IPv4 source address
    //   jeq #censored, 0, 1
    //   ret #1                   ; censored source -> trap
    //   ret #0                   ; anyone else -> serving socket
    const SKF_NET_OFF: i32 = -0x0010_0000;
    let load_src = (SKF_NET_OFF + 12) as u32;
    let mut program = [
        libc::sock_filter {
            code: (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16,
            jt: 0,
            jf: 0,
            k: load_src,
        },
        libc::sock_filter {
            code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
            jt: 0,
            jf: 1,
            k: u32::from(censored),
        },
        libc::sock_filter {
            code: (libc::BPF_RET | libc::BPF_K) as u16,
            jt: 0,
            jf: 0,
            k: 1,
        },
        libc::sock_filter {
            code: (libc::BPF_RET | libc::BPF_K) as u16,
            jt: 0,
            jf: 0,
            k: 0,
        },
    ];
    let fprog = libc::sock_fprog {
        len: program.len() as u16,
        filter: program.as_mut_ptr(),
    };
    // SAFETY: `fprog` points to `program`, which outlives the call; the kernel
    // copies the program during setsockopt and validates it. The fd is open.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ATTACH_REUSEPORT_CBPF,
            std::ptr::addr_of!(fprog).cast(),
            std::mem::size_of::<libc::sock_fprog>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(LabError::socket(
            "SO_ATTACH_REUSEPORT_CBPF",
            io::Error::last_os_error(),
        ));
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn attach_source_steering(_socket: &Socket, _censored: Ipv4Addr) -> Result<(), LabError> {
    Err(LabError::Unsupported("SO_ATTACH_REUSEPORT_CBPF (Linux)"))
}

/// A stream that first replays bytes already read from it (e.g. a
/// ClientHello or a request head the censor inspected), then reads on.
pub(crate) struct Prefixed<S> {
    prefix: Vec<u8>,
    offset: usize,
    inner: S,
}

impl<S> Prefixed<S> {
    /// Wraps `inner`, replaying `prefix` first.
    pub fn new(prefix: Vec<u8>, inner: S) -> Self {
        Prefixed {
            prefix,
            offset: 0,
            inner,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Prefixed<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.offset < this.prefix.len() {
            let rest = &this.prefix[this.offset..];
            let n = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..n]);
            this.offset += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Prefixed<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Bytes a throttled stream may send at once before the rate applies.
const THROTTLE_BURST: u64 = 4096;

/// A stream whose writes are capped at a byte rate (token bucket with a small burst).
pub(crate) struct Throttled<S> {
    inner: S,
    rate: Option<u64>,
    start: Instant,
    sent: u64,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl<S> Throttled<S> {
    /// Caps writes to `rate` bytes per second; `None` passes through.
    pub fn new(inner: S, rate: Option<u64>) -> Self {
        Throttled {
            inner,
            rate: rate.filter(|r| *r > 0),
            start: Instant::now(),
            sent: 0,
            sleep: None,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Throttled<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Throttled<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let Some(rate) = this.rate else {
            return Pin::new(&mut this.inner).poll_write(cx, buf);
        };
        loop {
            if let Some(sleep) = this.sleep.as_mut() {
                if sleep.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                this.sleep = None;
            }
            let elapsed = this.start.elapsed().as_secs_f64();
            let budget = THROTTLE_BURST + (elapsed * rate as f64) as u64;
            let allowed = budget.saturating_sub(this.sent);
            if allowed == 0 {
                // Wait until one more burst-sized slice (or 1/16 s of rate) is allowed.
                let slice = (rate / 16).clamp(1, THROTTLE_BURST);
                let wait = Duration::from_secs_f64(slice as f64 / rate as f64);
                this.sleep = Some(Box::pin(tokio::time::sleep(wait)));
                continue;
            }
            let n = (allowed as usize).min(buf.len());
            return match Pin::new(&mut this.inner).poll_write(cx, &buf[..n]) {
                Poll::Ready(Ok(written)) => {
                    this.sent += written as u64;
                    Poll::Ready(Ok(written))
                }
                other => other,
            };
        }
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn prefixed_stream_replays_its_prefix_then_reads_on() {
        let (a, mut b) = tokio::io::duplex(64);
        b.write_all(b" world").await.unwrap();
        drop(b);
        let mut s = Prefixed::new(b"hello".to_vec(), a);
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        assert_eq!(out, "hello world");
    }

    #[tokio::test]
    async fn throttled_stream_keeps_to_its_rate() {
        let (a, mut b) = tokio::io::duplex(1 << 20);
        let rate = 400_000u64;
        let total = 124_000usize;
        let writer = tokio::spawn(async move {
            let mut t = Throttled::new(a, Some(rate));
            t.write_all(&vec![7u8; total]).await.unwrap();
        });
        let start = Instant::now();
        let mut got = vec![0u8; total];
        b.read_exact(&mut got).await.unwrap();
        writer.await.unwrap();
        let took = start.elapsed().as_secs_f64();
        let ideal = (total as u64 - THROTTLE_BURST) as f64 / rate as f64;
        // Never faster than the rate allows; slower only by scheduling noise.
        assert!(
            took >= ideal * 0.95 && took <= ideal * 3.0,
            "took {took}s, ideal {ideal}s"
        );
    }

    #[tokio::test]
    async fn unthrottled_stream_passes_through() {
        let (a, mut b) = tokio::io::duplex(1 << 16);
        let mut t = Throttled::new(a, None);
        t.write_all(&[1u8; 30_000]).await.unwrap();
        let mut got = vec![0u8; 30_000];
        b.read_exact(&mut got).await.unwrap();
    }
}
