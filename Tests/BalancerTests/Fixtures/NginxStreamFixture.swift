/// The original nginx config this project replaces, verbatim (byte for byte, non-ASCII comments and
/// trailing spaces included); `ConfigParserTests` checks its length and CRC-32 against the original file.
enum NginxStreamFixture {
    static let byteCount = 797
    static let crc32: UInt32 = 644689987

    static let text = #"""
events {
    worker_connections  1024; #最大连接数1024，默认为512
}
#-------------------------------添加的内容------------------------

stream {
      upstream MyServer {
          # max_fails最大失败次数，若超过则判断连接失败
          # fail_timeout，发出心跳包超过改时间没收到回包就算一次失败
          server 127.0.0.1:6000 weight=1 max_fails=3 fail_timeout=30s;
          server 127.0.0.1:6002 weight=1 max_fails=3 fail_timeout=30s;
      }
  
      server {      
          proxy_connect_timeout 1s;
          listen 8000;
          proxy_pass MyServer; # 所有连接到8000端口的请求都往MyServer指定的主机里负载均衡
          tcp_nodelay on;
      }
  }
#---------------------------------------------------------------

"""#
}
