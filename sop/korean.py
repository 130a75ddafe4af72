"""Korean operations vocabulary in English, so a Korean alert meets English SOPs word for word.

The multilingual sentence model (sop/use.py) carries the meaning of a Korean sentence, but it
knows the loanwords Korean engineers type ("스테이트풀셋", "크론잡", "파드") poorly, and BM25 and
the English model see nothing in Hangul at all. `gloss` adds the English words for the
operations terms a Korean text uses; the search embeds and scores the text with the gloss.

The vocabulary is the English of SOP titles and sections (the library's and the
prometheus-runbooks corpus's: pod, node, disk, status check, certificate, quota...) with
the Korean a person would type for each, loanwords and native words both. A key matches at
the start of a Hangul word, so particles and endings after it ("파드가", "재시작돼요") do
not matter.
"""

from __future__ import annotations

import re

HANGUL = re.compile(r"[\uac00-\ud7a3]")

# Korean (word start) -> English. Longer keys win over their prefixes ("상태 검사" over "상태").
_TERMS: dict[str, str] = {
    # compute, fleet
    "인스턴스": "instance", "서버": "server host", "웹서버": "web server", "호스트": "host",
    "가상머신": "instance", "머신": "machine host", "하드웨어": "hardware", "시스템": "system",
    "커널": "kernel", "프로세스": "process", "서비스": "service", "애플리케이션": "application",
    "앱": "application", "배포": "deploy deployment", "노드": "node", "워커": "worker",
    "클러스터": "cluster", "멤버": "member", "리더": "leader", "쿼럼": "quorum",
    # resources and their states
    "씨피유": "cpu", "사용률": "utilization usage", "사용량": "usage", "메모리": "memory",
    "스왑": "swap", "디스크": "disk", "볼륨": "volume", "용량": "capacity space",
    "공간": "space", "여유 공간": "free space", "파티션": "partition filesystem",
    "파일시스템": "filesystem", "파일 시스템": "filesystem", "아이노드": "inode",
    "꽉": "full", "가득": "full", "찼": "full", "다 찼": "full", "부족": "low insufficient exhaustion",
    "바닥": "depleted exhausted", "소진": "exhausted depleted", "고갈": "exhausted",
    "떨어졌": "exhausted low", "남은": "remaining left", "한도": "limit", "제한": "limit",
    "초과": "exceeded over", "과다": "overcommit", "과다 할당": "overcommit", "할당": "allocation",
    "크레딧": "credit", "잔액": "balance", "버스트": "burst", "밸런스": "balance",
    "스로틀링": "throttling", "스로틀": "throttling", "쓰로틀링": "throttling",
    "파일 디스크립터": "file descriptor open files", "디스크립터": "descriptor",
    "열린 파일": "open files", "아이피": "ip address", "주소": "address",
    "서브넷": "subnet", "네트워크 인터페이스": "network interface eni",
    "인터페이스": "interface", "네트워크": "network", "트래픽": "traffic",
    "아웃바운드": "outbound out", "인바운드": "inbound in", "대역폭": "bandwidth",
    "수신": "receive", "송신": "transmit", "패킷": "packet", "연결": "connection",
    "커넥션": "connection", "테이블": "table", "배열": "array", "레이드": "raid",
    # kubernetes objects
    "파드": "pod", "포드": "pod", "컨테이너": "container", "이미지": "image",
    "디플로이먼트": "deployment", "스테이트풀셋": "statefulset", "데몬셋": "daemonset",
    "레플리카": "replicas", "레플리카셋": "replicaset", "크론잡": "cronjob job",
    "잡이": "job", "잡은": "job", "잡 ": "job", "배치": "batch job", "작업": "job task",
    "네임스페이스": "namespace", "쿼터": "quota", "리소스": "resource", "요청량": "requests",
    "스케줄러": "scheduler", "스케줄": "schedule", "컨트롤러": "controller",
    "오토스케일러": "autoscaler hpa", "오토스케일링": "autoscaling", "롤아웃": "rollout",
    "세대": "generation", "리비전": "revision", "버전": "version",
    "인증서": "certificate", "갱신": "renewal renew", "만료": "expiration expired expire",
    "프록시": "proxy", "에이피아이": "api", "어그리게이티드": "aggregated",
    # monitoring stack
    "프로메테우스": "prometheus", "얼럿매니저": "alertmanager", "알럿매니저": "alertmanager",
    "알림": "alert notification", "알람": "alarm alert", "경고": "warning alert",
    "큐": "queue", "대기열": "queue", "샘플": "samples", "수집": "ingest scrape",
    "스크레이프": "scrape", "스크랩": "scrape", "타겟": "target", "대상": "target",
    "룰": "rule", "규칙": "rule", "평가": "evaluation", "설정": "config configuration",
    "구성": "configuration", "리로드": "reload", "재로드": "reload", "다시 읽": "reload",
    "원격": "remote", "쓰기": "write", "읽기": "read", "컴팩션": "compaction",
    "샤드": "shard", "샤딩": "sharding", "라벨": "label", "레이블": "label",
    "타임스탬프": "timestamp", "중복": "duplicate", "순서": "order", "오퍼레이터": "operator",
    "사이드카": "sidecar", "하트비트": "heartbeat watchdog",
    # aws
    "로드밸런서": "load balancer", "로드 밸런서": "load balancer", "요금": "cost bill charges",
    "비용": "cost spend", "청구": "billing charges", "예산": "budget", "지출": "spend",
    "권한": "permission access denied", "자격 증명": "credentials", "자격증명": "credentials",
    "토큰": "token", "서명": "signature", "역할": "role", "키": "key",
    "유지보수": "maintenance", "유지 보수": "maintenance", "폐기": "retirement retire",
    "이벤트": "event", "예정": "scheduled", "리부팅": "reboot", "재부팅": "reboot",
    # time
    "시계": "clock time", "시간": "time", "시각": "time", "동기화": "synchronization sync",
    "틀어": "skew drift", "어긋": "skew", "안 맞": "skew mismatch", "맞지 않": "mismatch",
    # what is happening
    # "status check failed" is also the CloudWatch metric's name, which the status-check SOPs cite.
    "상태 검사 실패": "status check failed StatusCheckFailed", "상태 확인 실패": "status check failed StatusCheckFailed",
    "상태 체크 실패": "status check failed StatusCheckFailed",
    "상태 검사": "status check", "상태 확인": "status check", "상태 체크": "status check",
    "헬스 체크": "health check", "헬스체크": "health check", "검사": "check",
    "실패": "failed failure failing", "에러": "error errors", "오류": "error errors",
    "장애": "failure outage", "다운": "down", "죽었": "down", "죽은": "down dead",
    "죽여": "kill killed", "킬러": "killer", "재시작": "restart restarting crashloop",
    "크래시": "crash crashlooping", "크래쉬": "crash", "충돌": "crash",
    "중지": "stopped stop", "꺼졌": "stopped shut down", "꺼짐": "stopped",
    "멈췄": "stopped stuck", "멈춰": "stuck stopped", "멈춤": "stuck", "정지": "stopped",
    "접속": "connect ssh access unreachable", "응답": "response respond",
    "응답이 없": "unreachable not responding", "응답 없": "unreachable not responding",
    "느려": "slow latency", "느린": "slow", "느리": "slow", "지연": "latency delay",
    "뒤처": "behind lagging", "밀리": "behind lagging", "급증": "spike surge",
    "폭증": "spike surge", "증가": "increase high", "늘어": "increasing growing",
    "높아": "high", "높은": "high", "많아": "high many", "대기": "waiting pending",
    "준비": "ready", "불일치": "mismatch inconsistent", "일치하지": "mismatch",
    "왔다 갔다": "flapping", "반복": "flapping repeatedly", "예기치": "unexpected",
    "갑자기": "unexpectedly suddenly", "누락": "missing", "빠졌": "missing", "사라졌": "missing gone",
    "안 보여": "missing", "거부": "rejected", "유효하지 않": "invalid", "잘못된": "bad invalid",
    "동기": "sync", "손상": "degraded damaged", "성능 저하": "degraded", "끝나": "complete finish",
    "완료": "completion complete", "오래": "long time",
}

_KEYS = sorted(_TERMS, key=len, reverse=True)
# A key at the start of a Hangul word: nothing Hangul right before it.
_PATTERN = re.compile("|".join(rf"(?<![\uac00-\ud7a3])({re.escape(k)})" for k in _KEYS))


def has_hangul(text: str) -> bool:
    return bool(HANGUL.search(text))


def gloss(text: str) -> str:
    """The English operations words for the Korean terms in `text` ("" when there are none)."""
    if not has_hangul(text):
        return ""
    words: list[str] = []
    for match in _PATTERN.finditer(text):
        words.extend(_TERMS[match.group(0)].split())
    return " ".join(dict.fromkeys(words))


def with_gloss(text: str) -> str:
    """`text` followed by its English gloss: what the English model and BM25 are given."""
    extra = gloss(text)
    return f"{text} {extra}" if extra else text


def non_hangul(text: str) -> str:
    """The parts of `text` that are not Hangul (identifiers, English words, numbers)."""
    return " ".join(HANGUL.sub(" ", text).split())
