"""Words the offline planner recognises, in English and Korean, as regex fragments per label.

Tables are ordered lists, not dicts: within one pass the first pattern that matches
at a position wins, so longer or more specific phrases come before the words they
contain ("power cycle" before "power ... off", "재부팅" before "부팅"). Patterns
made of ASCII get word boundaries (a dash counts as part of a word, so "stop" never
matches inside an instance named "stop-gap"); Korean patterns match inside words,
because particles and endings are glued on ("재부팅해줘", "서버를").
"""

from __future__ import annotations

# Up to three words between the two halves of a split verb: "turn web-1 off", "bring api-2 back up".
_GAP = r"(?=(?:\s+\S+){0,3}?\s+"
# A Korean verb stem followed by one of these is a noun compound ("재부팅 이력" reboot history,
# "종료 보호" termination protection, "시작 시간" start time), not a command.
_KO_NOUN = r"(?! ?(?:이력|기록|히스토리|내역|횟수|시간|시각|일자|날짜|로그|보호|정책|방지|예정|스크립트|파일|설정|옵션))"

# What "we don't need ..." is about: the machine (a pronoun or a blanked name), not an action.
_NEEDED = r"(?:it|this|that|them|these|those|\x01+|(?:the |this |that )?[\w-]+ any ?more)(?![\w-])"

# Pass 1: flags that change how everything else is read. Checked before verbs, so that
# "what would happen if" and "how do I" are not mistaken for commands.
GUARD_CUES: list[tuple[str, str]] = [
    ("injection", r"ignore (?:all |any |the |your |my |every )*(?:previous |prior |above |earlier |"
                  r"preceding |former |system |safety )*(?:instructions?|prompts?|rules|messages|guards?)"),
    ("injection", r"disregard"), ("injection", r"system prompt"), ("injection", r"you are now"),
    ("injection", r"new instructions"), ("injection", r"jailbreak"), ("injection", r"developer mode"),
    ("injection", r"forget (?:all |everything|your |previous )"),
    ("injection", r"이전 (?:지시|명령|지침)"), ("injection", r"(?:지시|명령|지침)(?:을|를)? 무시"),
    ("injection", r"시스템 프롬프트"),
    ("dryrun", r"하면 어떻게 (?:돼|되|될)"), ("dryrun", r"실제로는? (?:하지|실행하지) ?말고"),
    ("dryrun", r"dry[ -]?runs?"), ("dryrun", r"what (?:would|will|could|might) happen if"),
    ("dryrun", r"what happens if"), ("dryrun", r"what if"), ("dryrun", r"simulat\w*"),
    ("dryrun", r"would it (?:work|succeed|be allowed|fail)"),
    ("dryrun", r"is it (?:safe|ok|okay|possible|allowed) to"), ("dryrun", r"(?:can|could|may) i(?: safely)?"),
    ("dryrun", r"am i (?:allowed|able|permitted) to"), ("dryrun", r"do i have (?:the )?permissions?"),
    ("dryrun", r"(?:test|check) (?:whether|if) (?:i|we) (?:can|could)"), ("dryrun", r"pretend"),
    ("dryrun", r"without actually"), ("dryrun", r"드라이 ?런"), ("dryrun", r"시뮬레이션"),
    ("dryrun", r"모의 ?(?:실행|테스트)?"), ("dryrun", r"(?:가능한지|되는지|될지) ?(?:확인|체크|테스트|봐)"),
    ("dryrun", r"테스트로"), ("dryrun", r"시험 ?삼아"),
    ("sop", r"how (?:do|does|should|can|could|would|might|shall) (?:i|we|you|one|someone|they)"),
    ("sop", r"how[ -]to"), ("sop", r"what (?:should|do|can|must) (?:i|we) do"), ("sop", r"what to do"),
    ("sop", r"sops?"), ("sop", r"run-?books?"), ("sop", r"playbooks?"), ("sop", r"procedures?"),
    ("sop", r"steps (?:to|for)"), ("sop", r"what happens when"), ("sop", r"best practices?"), ("sop", r"troubleshoot\w*"),
    ("sop", r"remediat\w*"), ("sop", r"guidance"), ("sop", r"guides? (?:to|for|on)"),
    ("sop", r"documentation"), ("sop", r"docs? (?:for|on|about)"), ("sop", r"knowledge ?base"),
    ("sop", r"어떻게 ?(?:해|하|대응|처리|조치|고치|고쳐|복구|해결|대처)"), ("sop", r"방법"), ("sop", r"절차"),
    ("sop", r"매뉴얼"), ("sop", r"메뉴얼"), ("sop", r"가이드"), ("sop", r"런북"), ("sop", r"플레이북"),
    ("sop", r"대응 ?(?:방안|방법|법|절차)"), ("sop", r"대처법"), ("sop", r"해결책"),
    # Exclusion before negation: "but not" and "말고" pick targets out, they do not cancel the verb.
    ("exclude", r"except(?: for)?"), ("exclude", r"excluding"), ("exclude", r"other than"),
    ("exclude", r"apart from"), ("exclude", r"but not"), ("exclude", r"빼고"), ("exclude", r"제외(?:하고|한)?"),
    ("exclude", r"말고"),
    # "we don't need it anymore" says why, it does not cancel the verb.
    ("negate", r"(?:please )?don'?t(?! need " + _NEEDED + ")"), ("negate", r"do not(?! need " + _NEEDED + ")"), ("negate", r"never"), ("negate", r"shouldn'?t"),
    ("negate", r"should not"), ("negate", r"mustn'?t"), ("negate", r"must not"), ("negate", r"no need to"),
    ("negate", r"not to"), ("negate", r"cancel"), ("negate", r"abort"), ("negate", r"avoid"),
    ("negate", r"not(?= (?:stop|start|reboot|restart|terminate|delete|kill|shut|power|turn)\b)"),
    ("negate", r"지 ?마"), ("negate", r"지 ?말(?!고)"), ("negate", r"지 ?않"), ("negate", r"하면 안"),
    ("negate", r"(?:^|(?<= ))(?:안|못)(?= )"), ("negate", r"취소"),
]

# Pass 2: instance states written as adjectives, so "the stopped dev boxes" is a filter, not a verb.
STATE_CUES: list[tuple[str, str]] = [
    ("shutting-down", r"shutting[ -]down"), ("stopped", r"(?:powered|turned|switched) (?:off|down)"),
    ("running", r"up and running"), ("running", r"(?:powered|turned|switched) on"),
    ("running", r"running"), ("stopped", r"stopped"), ("stopping", r"stopping"), ("pending", r"pending"),
    ("terminated", r"terminated"),
    ("stopping", r"(?:중지|정지) ?중"), ("pending", r"(?:시작|부팅|대기) ?중"),
    ("stopped", r"(?:중지|정지)(?:된|돼 ?있는|되어 ?있는| ?상태)"), ("stopped", r"멈춘|멈춰 ?있는"),
    ("stopped", r"꺼진|꺼져 ?있는"), ("running", r"(?:실행|가동|동작|구동|운영) ?중"), ("running", r"켜진|켜져 ?있는"),
    ("running", r"돌아가(?:는|고)"), ("running", r"실행(?:된| ?상태)"), ("terminated", r"(?:종료|삭제)(?:된| ?상태)"),
]

# Pass 3: verbs that change an instance. Split verbs match only their first word (the lookahead
# checks the particle) so the instance named in between stays visible to target resolution.
ACTION_CUES: list[tuple[str, str]] = [
    # Past and progressive forms ("was web-1 rebooted?", "is it restarting") report, they don't
    # command; they count as verbs only after a hypothetical ("what if I rebooted web-1").
    ("past_reboot", r"re-?boot(?:ed|ing)|restart(?:ed|ing)|bounced|power[ -]?cycled|recycled|cycled"),
    ("past_start", r"start(?:ed|ing)|boot(?:ed|ing)|launched|launching|resumed|woken"),
    ("past_terminate", r"destroyed|deleted|removed|decommissioned|nuked|torn down|killed permanently"),
    ("past_stop", r"halted|paused|suspended|hibernated|killed"),
    ("past_reboot", r"(?:재부팅|재시작|리부팅|재기동)(?= ?(?:됐|되었|되어|됨|했|된 ?적|중))"),
    ("past_start", r"(?:시작|기동|부팅|실행)(?= ?(?:됐|되었|되어|됨|했|된 ?적))"),
    ("past_stop", r"(?:중지|정지|셧다운|중단)(?= ?(?:됐|되었|되어|됨|했|된 ?적))"),
    ("past_terminate", r"(?:종료|삭제|제거|폐기)(?= ?(?:됐|되었|되어|됨|했|된 ?적))"),
    # "kill" is a stop, unless the machine is said to be done with for good.
    ("terminate", r"kill(?=.*\b(?:permanently|for good|forever|any ?more|no longer|not needed|don'?t need)\b)"),
    ("reboot", r"(?:turn|power|switch)" + _GAP + r"off and (?:back )?on\b)"),
    ("reboot", r"re-?boot(?:s)?(?! (?:history|count|log|logs|time)\b)"), ("reboot", r"restarts?"),
    ("reboot", r"bounces?"), ("reboot", r"power[ -]?cycles?"), ("reboot", r"(?<!billing )(?<!bill )cycle"),
    ("reboot", r"recycle"), ("reboot", r"reset"), ("reboot", r"kick"),
    ("start", r"starts?(?: up)?(?! (?:of|date|time|times)\b)"), ("start", r"startup"),
    ("start", r"boots?(?: up)?(?! (?:time|log|logs|volume|disk|order)\b)"),
    ("start", r"(?:power|turn|switch|spin|fire|bring|boot)" + _GAP + r"(?:back )?(?:on|up|online)\b)"),
    ("start", r"wake(?: up)?"), ("start", r"resume"), ("start", r"unpause"),
    ("start", r"launch(?! (?:time|date|template|config|configuration)\b)"),
    ("terminate", r"terminate"), ("terminate", r"destroy"), ("terminate", r"decommission"),
    ("terminate", r"decom"), ("terminate", r"nuke"), ("terminate", r"delete"), ("terminate", r"remove(?!.*\bfrom\b)"),
    ("terminate", r"teardown"), ("terminate", r"tear" + _GAP + r"down\b)"), ("terminate", r"get rid of"),
    ("terminate", r"blow" + _GAP + r"away\b)"), ("terminate", r"trash"), ("terminate", r"scrap"),
    ("terminate", r"retire"), ("terminate", r"deprovision"), ("terminate", r"wipe(?: out)?"),
    ("terminate", r"dispose of"), ("terminate", r"throw away"),
    ("stop", r"stop"), ("stop", r"shutdown"), ("stop", r"halt"), ("stop", r"pause"), ("stop", r"suspend"),
    ("stop", r"hibernate"), ("stop", r"kill"),
    ("stop", r"(?:shut|power|turn|switch|spin|bring|take)" + _GAP + r"(?:down|off|offline)\b)"),
    # Korean stems, with the compounds that are nouns, not commands ("시작 시간" start time,
    # "종료 보호" termination protection) excluded.
    ("reboot", r"(?:재부팅|재시작|리부팅|리부트|재기동|재가동|리스타트|다시 ?(?:시작|켜|부팅))" + _KO_NOUN),
    ("reboot", r"껐다 ?(?:가 ?)?(?:다시 ?)?켜"),
    # "로 시작하는" is "starting with"; "제부팅" is a slip for 재부팅 (reboot), read in intents, not a boot.
    ("start", r"(?<!로 )(?<!로)(?:시작|기동|(?<![제재리])부팅|실행)" + _KO_NOUN + r"|켜|올려|올리|살려|스타트|가동"),
    ("stop", r"(?:중지|정지|중단)" + _KO_NOUN + r"|멈춰|멈추|멈춤|꺼|끄|셧다운|내려|스톱|스탑"),
    ("terminate", r"(?:종료|삭제|제거|폐기)" + _KO_NOUN + r"|없애|날려|터미네이트|지워|지우"),
]

# Pass 4: what a read-only request is about. "show" is the generic verb, decided by targets.
READ_CUES: list[tuple[str, str]] = [
    ("cost", r"how much (?:are|do|did|have|will|is|was) (?:we|i|you|it|this|aws) (?:\w+ )?"
             r"(?:pay|paying|paid|owe|spend|spending|spent|charged|charging|cost|costing)"),
    ("cost", r"costs?|costing|bills?|billing|billed|spend(?:ing|s)?|spent|charges?|charged|invoices?"),
    ("cost", r"expenses?|expenditure|money|budget"), ("cost", r"(?:we|i|you|us) (?:pay|paid|paying|owe)"), ("cost", r"비용|요금|청구|지출|과금|빌링|금액|코스트|사용료"),
    ("cost", r"(?:^|(?<= ))돈"), ("cost_weak", r"how much|얼마"),
    ("logs", r"log ?(?:groups?|streams?|events?|files?)"), ("logs", r"logs?|logging|syslog|grep|tail"),
    ("logs", r"로그"),
    ("logs_weak", r"errors?|exceptions?|stack ?traces?|tracebacks?|에러|오류|예외"),
    ("alarms", r"alarms?|alerts?|alerting|firing|on fire|fired|triggered|paging"),
    ("alarms", r"what'?s (?:wrong|broken)|anything (?:wrong|broken)"), ("alarms", r"알람|경보|알림|얼럿|알럿|울리|장애"),
    ("metrics", r"cpus?(?: ?utili[sz]ation| usage| load)?|utili[sz]ation|processor|load(?! ?balancer)"),
    ("metrics", r"network(?: ?(?:in|out|traffic|packets))?|traffic|bandwidth|inbound|outbound|ingress|egress"),
    ("metrics", r"bytes (?:in|out)|packets?(?: (?:in|out))?|disk(?: ?(?:reads?|writes?|io|i/o|ops|iops|bytes))?"),
    ("metrics", r"iops|read bytes|write bytes|metrics?|graphs?|charts?|usage|statuscheckfailed\w*"),
    ("metrics", r"cpu credits?|credit (?:balance|usage)|memory|ram|mem|stats|statistics"),
    ("metrics", r"사용률|사용량|메트릭|지표|네트워크|트래픽|디스크|부하|인바운드|아웃바운드|수신|송신|씨피유|메모리|그래프|처리량"),
    ("status", r"status ?checks?|health ?checks?|status(?:es)?|health|healthy|unhealthy|reachab\w*"),
    ("status", r"(?:what|which|current) state|state of|(?:'s|its|their) (?:current )?state"),
    ("status_weak", r"alive|responding|responsive|impaired|down|stuck|hung|unresponsive|doing"),
    ("status", r"상태|헬스|정상(?:인지|이야|이에요|입니까|인가|이니)|살아 ?있|죽었|응답"),
    ("describe", r"describe|details?|detailed|info|information|tell me about|inspect|specs?|specifications?"),
    ("describe", r"configuration|config|what(?: i|')s"), ("describe", r"정보|상세|자세히|세부|설명|스펙|사양|구성"),
    ("list", r"list(?:ing)?|inventory|enumerate|목록|리스트|나열"),
    ("which", r"which|how many|fleet|what (?:instances|servers|hosts|machines|boxes|vms|nodes|ec2)"),
    ("which", r"어떤|뭐가 있|몇 ?대"),
    ("show", r"show|display|get|give|see|view|check|find|fetch|look(?: at| up)?|print|pull up|search"),
    ("show", r"보여|알려|확인|조회|봐|찾아|체크|검색"),
]

# Words that end a clause. Several clauses that each carry a verb are several commands.
SOFT_SEPARATORS = r"\band then\b|\bthen\b|\band also\b|\band\b|\balso\b|,|그리고|그 ?다음|다음에|후에|하고 ?나서|고 ?나서"
# Sentence ends and shell-like joins: anything after one of these is a second request,
# whatever it says ("terminate dev-1. is db-1 running?" must not terminate db-1).
HARD_SEPARATORS = r";|&&|\|\||\||`|\$\(|\n|>\s*/|[.?!。](?:\s|$)"

QUANTIFIERS = r"\b(?:all|every|each|both|entire|whole|everything|any)\b|모든|모두|전부|전체|(?:^|(?<= ))다(?= |$)|둘 ?다|각"

# Tag keys whose values are environments, and the values people mean by the same word.
ENV_KEYS = ("env", "environment", "stage", "aiops:env")
ENV_CLASSES: dict[str, tuple[str, ...]] = {
    "prod": ("prod", "production", "prd", "live", "운영", "프로덕션", "상용"),
    "staging": ("staging", "stage", "stg", "스테이징", "스테이지"),
    "dev": ("dev", "development", "develop", "devel", "개발"),
    "test": ("test", "testing", "qa", "uat", "테스트", "큐에이"),
}

# Words that never name a target. Anything else left over in an action request is a name
# the user meant and the inventory lacks, which must be reported rather than ignored.
_STOPWORD_TEXT = """
a an the this that these those my our your his her its their me us we i you it they them him
please pls plz kindly can could would will should shall may might must do does did done is are was were
be been being am have has had to for of on in at with from by as into onto over under about and or but
so then now right asap immediately quickly again back up down off out online offline just also too very
some any all every each both everything entire whole only one ones two three four five six seven eight
nine ten there here what which who whom whose when where why how if else not no yes ok okay hey hi
hello thanks thank sure go ahead let lets make want need needs like i'd i'm we're it's that's what's
there's currently current today yesterday tonight week weeks month months year years day days hours hour
minutes minute mins min secs seconds sec last past previous next recent recently since during until per
time times same other another instance instances server servers host hosts machine machines box boxes
node nodes vm vms ec2 aws cloud group groups cluster stuff thing things named called id ids name names
tag tags tagged state states mode gracefully safely force forcefully hard soft permanently forever good
completely really real actually currently still already quick fast slow high low percent % via using
show me tell give get see over across within whole fleet env environment role amazon account region
way kind sort lot lots bit little much many more most less least few wait first then after before
trigger perform initiate execute issue schedule needs wants
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())

# Korean words for targets (regexes), found inside Hangul tokens (particles stay glued on) and
# looked up like the English word they stand for. Only claimed when the inventory has the word.
KO_WORDS: list[tuple[str, str]] = [
    ("데이터베이스", "database"), ("디비", "db"), ("웹", "web"), ("캐시", "cache"), ("레디스", "redis"),
    ("워커", "worker"), ("배치", "batch"), ("개발", "dev"), ("운영(?! ?중)", "prod"), ("프로덕션", "prod"),
    ("상용", "prod"), ("스테이징", "staging"), ("스테이지", "stage"), ("테스트(?!로)", "test"), ("큐에이", "qa"),
    ("프론트", "frontend"),
    ("백엔드", "backend"), ("게이트웨이", "gateway"), ("배스천", "bastion"), ("바스티온", "bastion"),
    ("점프", "jump"), ("카프카", "kafka"), ("브로커", "broker"), ("몽고", "mongo"), ("엘라스틱", "elastic"),
    ("인증", "auth"), ("결제", "payment"), ("주문", "orders"), ("젠킨스", "jenkins"), ("그라파나", "grafana"),
    ("프로메테우스", "prometheus"), ("모니터링", "monitoring"), ("프록시", "proxy"), ("엔진엑스", "nginx"),
    ("포스트그레스", "postgres"), ("마이에스큐엘", "mysql"), ("메일", "mail"), ("빌드", "build"),
    ("러너", "runner"), ("에이피아이", "api"), ("체크아웃", "checkout"), ("검색", "search"), ("큐(?!에이)", "queue"),
]
# Korean nouns that mean "instance" in general; "들" marks a plural ("서버들").
KO_GENERIC = ("서버", "인스턴스", "호스트", "머신", "장비", "노드", "박스")

# Words people use for a kind of host whose tags use a different word. Tried only when
# the word itself names nothing in the inventory ("the database" finds role=postgres).
CONCEPTS: list[frozenset[str]] = [frozenset(g.split()) for g in (
    "db dbs database databases rdb sql postgres postgresql pg mysql mariadb aurora oracle mssql mongo mongodb rds",
    "cache caches redis memcached memcache valkey elasticache",
    "web www frontend front fe nginx apache httpd site website",
    "api apis backend svc service services",
    "worker workers job jobs queue consumer consumers batch",
    "bastion jump jumpbox jumphost",
    "monitoring grafana prometheus observability",
    "search elasticsearch elastic opensearch solr",
    "ci jenkins build builder runner runners gitlab",
    "kafka broker brokers rabbitmq rabbit mq",
    "lb proxy haproxy balancer loadbalancer",
    "primary main master leader writer",
    "replica secondary standby slave follower reader",
)]
