# Sourced by guest/fetch-debian.sh and the benchmark scripts (POSIX sh): a private apt setup
# that touches nothing of the host's apt state.
#
# apt_private DIR ARCH KEYRING MIRROR SUITE
#   writes DIR/apt.conf and DIR/sources.list for SUITE's main component of ARCH at MIRROR,
#   signatures checked against KEYRING only (signed-by=), with its own lists, cache and an
#   empty dpkg status; exports APT_CONFIG. APT_CONFIG is read before any other configuration,
#   so it also switches off the host's /etc/apt/apt.conf{,.d} (proxies still come from
#   http_proxy). apt-get download then checks every .deb against the signed index.
apt_private() {
    _ap_dir=$1
    mkdir -p "$_ap_dir/lists/partial" "$_ap_dir/cache/archives/partial" "$_ap_dir/empty"
    : >"$_ap_dir/status"
    echo "deb [signed-by=$3] $4 $5 main" >"$_ap_dir/sources.list"
    cat >"$_ap_dir/apt.conf" <<APTEOF
Dir::Etc::Main "/dev/null";
Dir::Etc::Parts "$_ap_dir/empty";
Dir::Etc::SourceList "$_ap_dir/sources.list";
Dir::Etc::SourceParts "$_ap_dir/empty";
Dir::Etc::Preferences "/dev/null";
Dir::Etc::PreferencesParts "$_ap_dir/empty";
Dir::Etc::Trusted "/dev/null";
Dir::Etc::TrustedParts "$_ap_dir/empty";
Dir::State "$_ap_dir";
Dir::State::Lists "$_ap_dir/lists";
Dir::State::status "$_ap_dir/status";
Dir::Cache "$_ap_dir/cache";
APT::Architecture "$2";
APT::Architectures { "$2"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Acquire::Languages "none";
Acquire::GzipIndexes "true";
Debug::NoLocking "true";
APTEOF
    # As root apt would download as the _apt user, who cannot enter ~root.
    [ "$(id -u)" != 0 ] || echo 'APT::Sandbox::User "root";' >>"$_ap_dir/apt.conf"
    APT_CONFIG=$_ap_dir/apt.conf
    export APT_CONFIG
}
