# fish completion for berth(8), the OCI container runtime.
# Container IDs come from `berth list -q`, run with the same --root as the
# command line being completed; any failure there just completes nothing.

# Prints the subcommand of the command line being completed (the first word
# that is neither a global flag nor the value of one); fails if there is none.
function __berth_subcommand
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l skip 0
    for t in $tokens
        if test $skip = 1
            set skip 0
            continue
        end
        switch $t
            case --log --log-format --root --criu --rootless
                set skip 1
            case '-*'
            case '*'
                echo $t
                return 0
        end
    end
    return 1
end

function __berth_needs_command
    not __berth_subcommand >/dev/null
end

# True when the subcommand is one of the arguments.
function __berth_using_command
    set -l cmd (__berth_subcommand)
    or return 1
    contains -- $cmd $argv
end

# Flags of a subcommand that take a value (so the next word is not an argument).
function __berth_value_flags
    switch $argv[1]
        case checkpoint
            echo --image-path --work-path --parent-path --status-fd --page-server --manage-cgroups-mode --empty-ns
        case create
            echo --bundle -b --console-socket --pid-file --preserve-fds
        case events
            echo --interval
        case exec
            echo --console-socket --cwd --env -e --user -u --additional-gids -g --process -p --pid-file --process-label --apparmor --cap -c --preserve-fds --cgroup
        case list ps
            echo --format -f
        case restore
            echo --console-socket --image-path --work-path --manage-cgroups-mode --bundle -b --pid-file --empty-ns --lsm-profile --lsm-mount-context
        case run
            echo --bundle -b --console-socket --pid-file --preserve-fds
        case spec
            echo --bundle -b
        case update
            echo --resources -r --blkio-weight --cpu-period --cpu-quota --cpu-share --cpu-rt-period --cpu-rt-runtime --cpuset-cpus --cpuset-mems --memory --memory-reservation --memory-swap --pids-limit --l3-cache-schema --mem-bw-schema
    end
end

# Prints how many arguments (not flags, not flag values) follow the subcommand.
function __berth_count_args
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l cmd (__berth_subcommand)
    or begin
        echo 0
        return
    end
    set -l value_flags (string split ' ' -- (__berth_value_flags $cmd))
    set -l seen_cmd 0
    set -l skip 0
    set -l n 0
    set -l dashdash 0
    for t in $tokens
        if test $skip = 1
            set skip 0
            continue
        end
        if test $seen_cmd = 0
            switch $t
                case --log --log-format --root --criu --rootless
                    set skip 1
                case $cmd
                    set seen_cmd 1
            end
            continue
        end
        if test $dashdash = 1
            set n (math $n + 1)
            continue
        end
        switch $t
            case --
                set dashdash 1
            case '-*=*'
            case '-*'
                contains -- $t $value_flags; and set skip 1
            case '*'
                set n (math $n + 1)
        end
    end
    echo $n
end

# True when the subcommand is one of the arguments and the cursor is at its
# first argument (the container ID).
function __berth_needs_id
    __berth_using_command $argv; or return 1
    test (__berth_count_args) = 0
end

function __berth_needs_signal
    __berth_using_command kill; or return 1
    test (__berth_count_args) = 1
end

function __berth_containers
    set -l tokens (commandline -opc)
    set -l prog $tokens[1]
    set -e tokens[1]
    set -l root
    set -l i 1
    while test $i -le (count $tokens)
        switch $tokens[$i]
            case --root
                set -l j (math $i + 1)
                set root --root $tokens[$j]
            case '--root=*'
                set root --root (string replace -- --root= '' $tokens[$i])
            case '-*'
            case '*'
                break
        end
        set i (math $i + 1)
    end
    $prog $root list -q 2>/dev/null
end

function __berth_signals
    set -l sigs HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM STKFLT CHLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO PWR SYS
    if string match -q 'SIG*' -- (commandline -ct)
        printf 'SIG%s\n' $sigs
    else
        printf '%s\n' $sigs
    end
end

set -l __berth_caps CAP_AUDIT_CONTROL CAP_AUDIT_READ CAP_AUDIT_WRITE CAP_BLOCK_SUSPEND CAP_BPF CAP_CHECKPOINT_RESTORE CAP_CHOWN CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_FOWNER CAP_FSETID CAP_IPC_LOCK CAP_IPC_OWNER CAP_KILL CAP_LEASE CAP_LINUX_IMMUTABLE CAP_MAC_ADMIN CAP_MAC_OVERRIDE CAP_MKNOD CAP_NET_ADMIN CAP_NET_BIND_SERVICE CAP_NET_BROADCAST CAP_NET_RAW CAP_PERFMON CAP_SETFCAP CAP_SETGID CAP_SETPCAP CAP_SETUID CAP_SYS_ADMIN CAP_SYS_BOOT CAP_SYS_CHROOT CAP_SYS_MODULE CAP_SYS_NICE CAP_SYS_PACCT CAP_SYS_PTRACE CAP_SYS_RAWIO CAP_SYS_RESOURCE CAP_SYS_TIME CAP_SYS_TTY_CONFIG CAP_SYSLOG CAP_WAKE_ALARM

# No file completion unless a flag asks for it.
complete -c berth -f

# Global flags.
set -l g '__berth_needs_command'
complete -c berth -n $g -l debug -d 'enable debug logging'
complete -c berth -n $g -l log -r -F -d 'set the log file (default /dev/stderr)'
complete -c berth -n $g -l log-format -x -a 'text json' -d 'set the log format (default text)'
complete -c berth -n $g -l root -x -a '(__fish_complete_directories)' -d 'root directory for container state (default /run/berth)'
complete -c berth -n $g -l criu -x -a '(__fish_complete_command)' -d 'path to the criu binary (default criu)'
complete -c berth -n $g -l systemd-cgroup -d 'enable systemd cgroup support'
complete -c berth -n $g -l rootless -x -a 'true false auto' -d 'ignore cgroup permission errors (default auto)'
complete -c berth -n $g -s h -l help -d 'show help'
complete -c berth -n $g -s v -l version -d 'print the version'

# Subcommands.
complete -c berth -n $g -a checkpoint -d 'checkpoint a running container'
complete -c berth -n $g -a create -d 'create a container'
complete -c berth -n $g -a delete -d 'delete any resources held by the container'
complete -c berth -n $g -a events -d 'display container events and statistics'
complete -c berth -n $g -a exec -d 'execute new process inside the container'
complete -c berth -n $g -a features -d 'show the enabled features'
complete -c berth -n $g -a kill -d "send a signal to the container's init process"
complete -c berth -n $g -a list -d 'list containers under the given root'
complete -c berth -n $g -a pause -d 'suspend all processes inside the container'
complete -c berth -n $g -a ps -d 'display the processes running inside a container'
complete -c berth -n $g -a restore -d 'restore a container from a previous checkpoint'
complete -c berth -n $g -a resume -d 'resume all processes that have been paused'
complete -c berth -n $g -a run -d 'create and run a container'
complete -c berth -n $g -a spec -d 'create a new specification file'
complete -c berth -n $g -a start -d 'execute the user-defined process in a created container'
complete -c berth -n $g -a state -d 'output the state of a container'
complete -c berth -n $g -a update -d 'update container resource constraints'

# Every subcommand takes --help.
complete -c berth -n 'not __berth_needs_command' -s h -l help -d 'show help'

# Container IDs for the commands that act on an existing container.
complete -c berth -n '__berth_needs_id checkpoint delete events exec kill pause ps resume start state update' -x -a '(__berth_containers)' -d container
complete -c berth -n __berth_needs_signal -x -a '(__berth_signals)' -d signal

# Flags shared by several subcommands.
set -l c '__berth_using_command create run restore'
complete -c berth -n $c -s b -l bundle -x -a '(__fish_complete_directories)' -d 'path to the root of the bundle directory (default .)'
complete -c berth -n "$c exec" -l console-socket -r -F -d 'AF_UNIX socket that receives the pseudoterminal master'
complete -c berth -n "$c exec" -l pid-file -r -F -d 'file to write the process id to'
complete -c berth -n '__berth_using_command create run exec' -l preserve-fds -x -d 'pass N additional file descriptors (default 0)'
complete -c berth -n $c -l no-pivot -d 'do not use pivot_root to jail the process inside rootfs'
complete -c berth -n '__berth_using_command create run' -l no-new-keyring -d 'do not create a new session keyring'
complete -c berth -n '__berth_using_command run restore' -l no-subreaper -d 'disable the subreaper used to reap reparented processes'
complete -c berth -n '__berth_using_command run restore exec' -s d -l detach -d "detach from the container's process"

# run
complete -c berth -n '__berth_using_command run' -l keep -d 'do not delete the container after it exits'

# delete, kill
complete -c berth -n '__berth_using_command delete' -s f -l force -d 'forcibly delete a running container (uses SIGKILL)'
complete -c berth -n '__berth_using_command kill' -s a -l all -d 'send the signal to all processes inside the container'

# list, ps
complete -c berth -n '__berth_using_command list ps' -s f -l format -x -a 'table json' -d 'output format (default table)'
complete -c berth -n '__berth_using_command list' -s q -l quiet -d 'display only container IDs'

# events
complete -c berth -n '__berth_using_command events' -l interval -x -a '1s 5s 10s 30s 1m' -d 'stats collection interval (default 5s)'
complete -c berth -n '__berth_using_command events' -l stats -d "display the container's stats then exit"

# exec
set -l e '__berth_using_command exec'
complete -c berth -n $e -l cwd -x -d 'current working directory in the container'
complete -c berth -n $e -s e -l env -x -d 'set environment variables'
complete -c berth -n $e -s t -l tty -d 'allocate a pseudo-TTY'
complete -c berth -n $e -s u -l user -x -d 'UID (format: <uid>[:<gid>])'
complete -c berth -n $e -s g -l additional-gids -x -d 'additional gids'
complete -c berth -n $e -s p -l process -r -F -d 'path to the process.json'
complete -c berth -n $e -l process-label -x -d 'set the asm process label for the process'
complete -c berth -n $e -l apparmor -x -d 'set the apparmor profile for the process'
complete -c berth -n $e -l no-new-privs -d 'set the no new privileges value for the process'
complete -c berth -n $e -s c -l cap -x -a "$__berth_caps" -d 'add a capability to the bounding set'
complete -c berth -n $e -l cgroup -x -d 'run the process in an (existing) sub-cgroup'
complete -c berth -n $e -l ignore-paused -d 'allow exec in a paused container'

# checkpoint, restore
set -l cr '__berth_using_command checkpoint restore'
complete -c berth -n $cr -l image-path -x -a '(__fish_complete_directories)' -d 'path of the criu image files'
complete -c berth -n $cr -l work-path -x -a '(__fish_complete_directories)' -d 'path for saving work files and logs'
complete -c berth -n $cr -l tcp-established -d 'allow open tcp connections'
complete -c berth -n $cr -l ext-unix-sk -d 'allow external unix sockets'
complete -c berth -n $cr -l shell-job -d 'allow shell jobs'
complete -c berth -n $cr -l file-locks -d 'handle file locks, for safety'
complete -c berth -n $cr -l lazy-pages -d 'use userfaultfd to lazily restore memory pages'
complete -c berth -n $cr -l manage-cgroups-mode -x -a 'soft full strict' -d 'cgroups mode (default soft)'
complete -c berth -n $cr -l empty-ns -x -a network -d "create a namespace, but don't restore its properties"
complete -c berth -n $cr -l auto-dedup -d 'enable auto deduplication of memory images'
set -l ck '__berth_using_command checkpoint'
complete -c berth -n $ck -l parent-path -x -a '(__fish_complete_directories)' -d 'path for previous criu image files in pre-dump'
complete -c berth -n $ck -l leave-running -d 'leave the process running after checkpointing'
complete -c berth -n $ck -l status-fd -x -d 'criu writes \0 to this fd once lazy-pages is ready (default -1)'
complete -c berth -n $ck -l page-server -x -d 'ADDRESS:PORT of the page server'
complete -c berth -n $ck -l pre-dump -d "dump the container's memory information only"
set -l rs '__berth_using_command restore'
complete -c berth -n $rs -l lsm-profile -x -d 'LSM profile to use during restore, as TYPE:NAME'
complete -c berth -n $rs -l lsm-mount-context -x -d 'LSM mount context to use during restore'

# spec
complete -c berth -n '__berth_using_command spec' -s b -l bundle -x -a '(__fish_complete_directories)' -d 'path to the root of the bundle directory'
complete -c berth -n '__berth_using_command spec' -l rootless -d 'generate a configuration for a rootless container'

# update
set -l u '__berth_using_command update'
complete -c berth -n $u -s r -l resources -r -F -d "file with the resources to update, or '-' for stdin"
complete -c berth -n $u -l blkio-weight -x -d 'per cgroup weight, 10 to 1000 (default 0)'
complete -c berth -n $u -l cpu-period -x -d 'CPU CFS period for hardcapping (usecs)'
complete -c berth -n $u -l cpu-quota -x -d 'CPU CFS hardcap limit (usecs)'
complete -c berth -n $u -l cpu-share -x -d 'CPU shares (relative weight)'
complete -c berth -n $u -l cpu-rt-period -x -d 'CPU realtime period for hardcapping (usecs)'
complete -c berth -n $u -l cpu-rt-runtime -x -d 'CPU realtime hardcap limit (usecs)'
complete -c berth -n $u -l cpuset-cpus -x -d 'CPU(s) to use'
complete -c berth -n $u -l cpuset-mems -x -d 'memory node(s) to use'
complete -c berth -n $u -l memory -x -d 'memory limit (bytes)'
complete -c berth -n $u -l memory-reservation -x -d 'memory reservation or soft limit (bytes)'
complete -c berth -n $u -l memory-swap -x -d 'memory + swap limit (bytes), -1 for unlimited'
complete -c berth -n $u -l pids-limit -x -d 'maximum number of pids (default 0)'
complete -c berth -n $u -l l3-cache-schema -x -d 'Intel RDT/CAT L3 cache schema'
complete -c berth -n $u -l mem-bw-schema -x -d 'Intel RDT/MBA memory bandwidth schema'

# exec: after the container ID comes the command to run in it.
complete -c berth -n '__berth_using_command exec; and test (__berth_count_args) = 1' -x -a '(__fish_complete_command)'
