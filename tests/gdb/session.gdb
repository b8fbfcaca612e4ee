# The scripted session of tests/gdb/gdb-session.sh against prog.elf (PORT is filled in).
set pagination off
set confirm off
target remote 127.0.0.1:PORT
info threads
break *bp_here
continue
printf "bp pc=%#lx\n", $pc
info registers s1
printf "s2=%#lx\n", $s2
info registers fa0
printf "priv=%d mhartid=%d\n", $priv, $mhartid
info registers misa
x/16xb &buf
stepi
printf "step1 pc=%#lx\n", $pc
stepi
printf "step2 pc=%#lx\n", $pc
stepi
printf "step3 pc=%#lx\n", $pc
stepi
printf "step4 pc=%#lx\n", $pc
stepi
printf "step5 pc=%#lx\n", $pc
printf "a0=%d a1=%d a2=%d a3=%#lx\n", $a0, $a1, $a2, $a3
watch *(long *)&watched
continue
printf "watch pc=%#lx store_insn=%#lx\n", $pc, &store_insn
printf "watched=%d other=%#lx\n", *(long *)&watched, *(long *)&other
delete
continue
