#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One address a host name resolved to, ready for `connect`.
struct ResolvedAddress: Sendable, CustomStringConvertible {
    var family: Int32
    var storage: sockaddr_storage
    var length: socklen_t

    /// `127.0.0.1:80` or `[::1]:80`.
    var description: String {
        var copy = storage
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        var service = [CChar](repeating: 0, count: Int(NI_MAXSERV))
        let status = withUnsafePointer(to: &copy) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getnameinfo(
                    $0, length, &host, socklen_t(host.count), &service, socklen_t(service.count),
                    NI_NUMERICHOST | NI_NUMERICSERV)
            }
        }
        guard status == 0 else { return "<address>" }
        let hostText = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let serviceText = String(decoding: service.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return family == AF_INET6 ? "[\(hostText)]:\(serviceText)" : "\(hostText):\(serviceText)"
    }
}

/// Why a name did not resolve: getaddrinfo's own message.
struct ResolveError: Error, Sendable, CustomStringConvertible {
    var host: String
    var message: String
    var description: String { "could not resolve \(host): \(message)" }
}

/// Host name resolution through `getaddrinfo` (blocking: it runs on the connection's I/O
/// thread). Returns every IPv4 and IPv6 address in the system's preferred order, so the caller
/// can try each in turn.
enum Resolver {
    static func resolve(host: String, port: Int) throws(ResolveError) -> [ResolvedAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if os(Linux)
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
            hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        // URLs keep IPv6 literals in brackets; getaddrinfo wants them bare.
        let bareHost = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        // An IP literal first, parsed without a lookup: AI_ADDRCONFIG would query the kernel's
        // interface list (a netlink socket, tens of microseconds) on every connect.
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV
        var status = getaddrinfo(bareHost, String(port), &hints, &list)
        if status != 0 {
            hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV
            status = getaddrinfo(bareHost, String(port), &hints, &list)
        }
        if status != 0 {
            // AI_ADDRCONFIG hides ::1 on hosts whose only IPv6 address is loopback: ask again without it.
            hints.ai_flags = AI_NUMERICSERV
            status = getaddrinfo(bareHost, String(port), &hints, &list)
        }
        guard status == 0 else {
            let message = gai_strerror(status).map { String(cString: $0) } ?? "error \(status)"
            throw ResolveError(host: host, message: message)
        }
        defer { freeaddrinfo(list) }
        var addresses: [ResolvedAddress] = []
        var cursor = list
        while let entry = cursor {
            let info = entry.pointee
            if let address = info.ai_addr, info.ai_family == AF_INET || info.ai_family == AF_INET6 {
                var storage = sockaddr_storage()
                withUnsafeMutableBytes(of: &storage) { destination in
                    destination.copyMemory(
                        from: UnsafeRawBufferPointer(start: address, count: Int(info.ai_addrlen)))
                }
                addresses.append(ResolvedAddress(family: info.ai_family, storage: storage, length: info.ai_addrlen))
            }
            cursor = info.ai_next
        }
        guard !addresses.isEmpty else { throw ResolveError(host: host, message: "no IPv4 or IPv6 address") }
        return addresses
    }
}
