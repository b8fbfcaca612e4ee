# Cuts one sequence out of a generated differential-test program and keeps only its first
# `keep` units and the first `partial` instructions of the next one (branches to later units
# land on the dump code), for bisecting a divergence:
#   awk -v seq=N -v keep=K [-v partial=I] -f truncate.awk prog.S > one.S
# The result is a one-sequence program; its state dump is block 0.
BEGIN { state = "head" }
/^# rvisor differential test program/ { sub(/, [0-9]+ sequences/, ", 1 sequences"); print; next }
state == "head" && $0 == "# seq " seq " begin" { state = "seq"; print "# seq 0 begin"; next }
state == "head" && /^# seq [0-9]+ begin$/ { state = "skip"; next }
state == "skip" { if ($0 ~ /^# seq [0-9]+ end$/) state = "head"; next }
state == "seq" && $0 == "# seq " seq " end" { print "# seq 0 end"; state = "head"; next }
state == "seq" && $0 == "# random" { print; random = 1; next }
state == "seq" && random && $0 == "# dump" { random = 0; print; next }
state == "seq" && random && /^\.Ls[0-9]+_[0-9]+:$/ { split($0, a, "_"); unit = a[2] + 0; print; next }
state == "seq" && random { if (unit < keep || (unit == keep && ++done <= partial)) print; next }
/^# write [0-9]+$/ { skip_write = ($3 != seq); if (!skip_write) print "# write 0"; next }
/^# exit call$/ { skip_write = 0 }
skip_write { next }
{ print }
