import type {
  Client,
  EmailAddress,
  LocalUser,
  Organization,
  PhoneNumber,
  SeededAccount,
  Session,
} from './model.js'
import { createUser } from './search.js'
import { passwordDigest, SESSION_LIFETIME_MS, type ClerkState } from './state.js'

// Deterministic demo data: the same seed number gives the same ids, names, emails and phones
// (timestamps are relative to `state.now()`). Only the four special accounts get passwords,
// because scrypt is deliberately slow.

export interface SeedOptions {
  /** Customers to create besides the special accounts (default 5,000). */
  users?: number
  /** PRNG seed (default 1). */
  seed?: number
  /** Base URL of the local server, for avatar URLs (default `http://127.0.0.1`). */
  baseUrl?: string
}

export interface SeedResult {
  accounts: SeededAccount[]
  /** Live ordinary sessions of customers (one client each), so session lists are never empty. */
  sessions: number
  supportOrganization: Organization
  customerOrganization: Organization
}

export const SUPPORT_ORG_SLUG = 'support'
export const IMPERSONATE_PERMISSION = 'org:admin:impersonate'
/** Decides other staff members' access requests (ActAs's two-person rule). */
export const APPROVE_ACCESS_PERMISSION = 'org:admin:approve_access'

/** Passwords of the special accounts (local only; printed by the CLI). */
export const SEEDED_PASSWORDS = {
  admin: 'actas-admin-pw',
  colleague: 'actas-colleague-pw',
  approver: 'actas-approver-pw',
  agent: 'actas-agent-pw',
  banned: 'actas-banned-pw',
  locked: 'actas-locked-pw',
} as const

const DAY = 86_400_000
const YEAR = 365 * DAY

/** mulberry32: small, fast, good enough for demo data. */
export function createRandom(seed: number): () => number {
  let a = (seed ^ 0x9e3779b9) >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

const FIRST_NAMES = [
  'Olivia',
  'Liam',
  'Emma',
  'Noah',
  'Amelia',
  'Oliver',
  'Sophia',
  'Elijah',
  'Charlotte',
  'James',
  'Ava',
  'William',
  'Isabella',
  'Benjamin',
  'Mia',
  'Lucas',
  'Evelyn',
  'Henry',
  'Harper',
  'Theodore',
  'Luna',
  'Jack',
  'Camila',
  'Levi',
  'Gianna',
  'Alexander',
  'Elizabeth',
  'Jackson',
  'Eleanor',
  'Mateo',
  'Ella',
  'Daniel',
  'Abigail',
  'Michael',
  'Sofia',
  'Mason',
  'Avery',
  'Sebastian',
  'Scarlett',
  'Ethan',
  'Emily',
  'Logan',
  'Aria',
  'Owen',
  'Penelope',
  'Samuel',
  'Chloe',
  'Jacob',
  'Layla',
  'Asher',
  'Mila',
  'Aiden',
  'Nora',
  'John',
  'Hazel',
  'Joseph',
  'Madison',
  'Wyatt',
  'Ellie',
  'David',
  'Lily',
  'Leo',
  'Nova',
  'Luke',
  'Isla',
  'Julian',
  'Grace',
  'Hudson',
  'Violet',
  'Grayson',
  'Aurora',
  'Matthew',
  'Riley',
  'Ezra',
  'Zoey',
  'Gabriel',
  'Willow',
  'Carter',
  'Emilia',
  'Isaac',
  'Stella',
  'Jayden',
  'Zoe',
  'Luca',
  'Victoria',
  'Anthony',
  'Hannah',
  'Dylan',
  'Addison',
  'Lincoln',
  'Leah',
  'Thomas',
  'Lucy',
  'Maverick',
  'Eliana',
  'Elias',
  'Ivy',
  'Josiah',
  'Everly',
  'Charles',
  'Lillian',
  'Caleb',
  'Paisley',
  'Christopher',
  'Elena',
  'Ezekiel',
  'Naomi',
  'Miles',
  'Maya',
  'Jaxon',
  'Natalie',
  'Isaiah',
  'Kinsley',
  'Andrew',
  'Delilah',
  'Joshua',
  'Claire',
  'Nathan',
  'Audrey',
  'Nolan',
  'Aaliyah',
  'Adrian',
  'Ruby',
  'Cameron',
  'Brooklyn',
  'Santiago',
  'Alice',
  'Eli',
  'Aubrey',
  'Aaron',
  'Autumn',
  'Ryan',
  'Leilani',
  'Angel',
  'Savannah',
  'Cooper',
  'Valentina',
  'Waylon',
  'Kennedy',
  'Easton',
  'Madelyn',
  'Kai',
  'Josephine',
  'Christian',
  'Bella',
  'Landon',
  'Skylar',
  'Colton',
  'Genesis',
  'Roman',
  'Sadie',
  'Axel',
  'Jade',
  'Priya',
  'Arjun',
  'Mei',
  'Hiroshi',
  'Yuki',
  'Wei',
  'Fatima',
  'Omar',
  'Aisha',
  'Kwame',
  'Amara',
  'Chinedu',
  'Ingrid',
  'Lars',
  'Freya',
  'Mateus',
  'Lucía',
  'José',
  'Zoë',
  'Chloé',
  'Renée',
  'Søren',
  'Björn',
  'Anaïs',
  'Dmitri',
  'Olga',
  'Siobhan',
  'Niamh',
  'Tariq',
  'Leila',
  'Ravi',
  'Ananya',
  'Kenji',
  'Sakura',
  'Minh',
  'Linh',
  'Tomás',
  'Inés',
]

const LAST_NAMES = [
  'Smith',
  'Johnson',
  'Williams',
  'Brown',
  'Jones',
  'Garcia',
  'Miller',
  'Davis',
  'Rodriguez',
  'Martinez',
  'Hernandez',
  'Lopez',
  'Gonzalez',
  'Wilson',
  'Anderson',
  'Thomas',
  'Taylor',
  'Moore',
  'Jackson',
  'Martin',
  'Lee',
  'Perez',
  'Thompson',
  'White',
  'Harris',
  'Sanchez',
  'Clark',
  'Ramirez',
  'Lewis',
  'Robinson',
  'Walker',
  'Young',
  'Allen',
  'King',
  'Wright',
  'Scott',
  'Torres',
  'Nguyen',
  'Hill',
  'Flores',
  'Green',
  'Adams',
  'Nelson',
  'Baker',
  'Hall',
  'Rivera',
  'Campbell',
  'Mitchell',
  'Carter',
  'Roberts',
  'Gomez',
  'Phillips',
  'Evans',
  'Turner',
  'Diaz',
  'Parker',
  'Cruz',
  'Edwards',
  'Collins',
  'Reyes',
  'Stewart',
  'Morris',
  'Morales',
  'Murphy',
  'Cook',
  'Rogers',
  'Gutierrez',
  'Ortiz',
  'Morgan',
  'Cooper',
  'Peterson',
  'Bailey',
  'Reed',
  'Kelly',
  'Howard',
  'Ramos',
  'Kim',
  'Cox',
  'Ward',
  'Richardson',
  'Watson',
  'Brooks',
  'Chavez',
  'Wood',
  'James',
  'Bennett',
  'Gray',
  'Mendoza',
  'Ruiz',
  'Hughes',
  'Price',
  'Alvarez',
  'Castillo',
  'Sanders',
  'Patel',
  'Myers',
  'Long',
  'Ross',
  'Foster',
  'Jimenez',
  'Powell',
  'Jenkins',
  'Perry',
  'Russell',
  'Sullivan',
  'Bell',
  'Coleman',
  'Butler',
  'Henderson',
  'Barnes',
  'Gonzales',
  'Fisher',
  'Vasquez',
  'Simmons',
  'Romero',
  'Jordan',
  'Patterson',
  'Alexander',
  'Hamilton',
  'Graham',
  'Reynolds',
  'Griffin',
  'Wallace',
  'Moreno',
  'West',
  'Cole',
  'Hayes',
  'Bryant',
  'Herrera',
  'Gibson',
  'Ellis',
  'Tran',
  'Medina',
  'Aguilar',
  'Stevens',
  'Murray',
  'Ford',
  'Castro',
  'Marshall',
  'Owens',
  'Harrison',
  'Fernandez',
  'McDonald',
  'Woods',
  'Washington',
  'Kennedy',
  'Wells',
  'Vargas',
  'Henry',
  'Chen',
  'Freeman',
  'Webb',
  'Tucker',
  'Guzman',
  'Burns',
  'Crawford',
  'Olson',
  'Simpson',
  'Porter',
  'Hunter',
  'Gordon',
  'Mendez',
  'Silva',
  'Shaw',
  'Snyder',
  'Mason',
  'Dixon',
  'Muñoz',
  'Hunt',
  'Hicks',
  'Holmes',
  'Palmer',
  'Wagner',
  'Black',
  'Robertson',
  'Boyd',
  'Rose',
  'Stone',
  'Salazar',
  'Fox',
  'Warren',
  'Mills',
  'Meyer',
  'Rice',
  'Schmidt',
  'Garza',
  'Daniels',
  'Ferguson',
  'Nichols',
  'Stephens',
  'Soto',
  'Weaver',
  'Ryan',
  'Gardner',
  'Payne',
  'Grant',
  'Dunn',
  'Kelley',
  'Spencer',
  'Hawkins',
  'Arnold',
  'Pierce',
  'Hansen',
  'Peters',
  'Santos',
  'Hart',
  'Bradley',
  'Knight',
  'Elliott',
  "O'Brien",
  'Nakamura',
  'Tanaka',
  'Sato',
  'Wang',
  'Zhang',
  'Li',
  'Singh',
  'Kumar',
  'Okafor',
  'Mensah',
  'Novak',
  'Kowalski',
  'Jensen',
  'Larsen',
  'Müller',
  'Schneider',
  'Dubois',
  'Lefèvre',
  'Rossi',
  'Bianchi',
  'García',
  'Núñez',
  'Ivanova',
  'Petrov',
  'Haddad',
  'Nasser',
  'Cohen',
  'Levi',
  'Andersson',
  'Lindqvist',
]

const EMAIL_DOMAINS = [
  'gmail.com',
  'gmail.com',
  'gmail.com',
  'outlook.com',
  'yahoo.com',
  'icloud.com',
  'hotmail.com',
  'proton.me',
  'fastmail.com',
  'example.com',
  'acme.io',
  'globex.com',
  'initech.com',
  'umbrella.co',
  'hooli.xyz',
  'stark.industries',
]

/** Country calling code and number length (digits after the code), with a leading digit set. */
const PHONE_PLANS: Array<{ code: string; digits: number; lead: string }> = [
  { code: '1', digits: 10, lead: '2345678' },
  { code: '1', digits: 10, lead: '2345678' },
  { code: '1', digits: 10, lead: '2345678' },
  { code: '44', digits: 10, lead: '7' },
  { code: '49', digits: 11, lead: '1' },
  { code: '33', digits: 9, lead: '67' },
  { code: '34', digits: 9, lead: '6' },
  { code: '61', digits: 9, lead: '4' },
  { code: '81', digits: 10, lead: '9' },
  { code: '91', digits: 10, lead: '9' },
]

const PLANS = ['free', 'free', 'free', 'starter', 'pro', 'pro', 'team', 'enterprise']

function asciiSlug(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ø/g, 'o')
    .replace(/ß/g, 'ss')
    .toLowerCase()
    .replace(/[^a-z]/g, '')
}

class Generator {
  readonly #random: () => number
  constructor(seed: number) {
    this.#random = createRandom(seed)
  }
  next(): number {
    return this.#random()
  }
  int(maxExclusive: number): number {
    return Math.floor(this.#random() * maxExclusive)
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!
  }
  chance(p: number): boolean {
    return this.#random() < p
  }
  // Built from char codes in one go: `+=` in a loop leaves rope strings that cost ~10x the memory.
  readonly #codes: number[] = []
  id(prefix: string): string {
    const codes = this.#codes
    codes.length = 0
    for (let i = 0; i < prefix.length; i++) codes.push(prefix.charCodeAt(i))
    codes.push(95) // '_'
    for (let i = 0; i < 27; i++) codes.push(BASE62.charCodeAt(this.int(62)))
    return String.fromCharCode(...codes)
  }
  digits(count: number): string {
    const codes = this.#codes
    codes.length = 0
    for (let i = 0; i < count; i++) codes.push(48 + this.int(10))
    return String.fromCharCode(...codes)
  }
}

function avatarUrl(baseUrl: string, userId: string, hasImage: boolean): string {
  return `${baseUrl}/__local/avatars/${hasImage ? '' : 'default/'}${userId}.svg`
}

interface NewUser {
  id: string
  firstName: string
  lastName: string
  emails: string[]
  phones: string[]
  username: string | null
  externalId: string | null
  hasImage: boolean
  createdAt: number
  updatedAt: number
  lastSignInAt: number | null
  lastActiveAt: number | null
  publicMetadata: Record<string, unknown>
  privateMetadata: Record<string, unknown>
  passwordDigest: string | null
  banned?: boolean
  locked?: boolean
}

function buildUser(gen: Generator, baseUrl: string, u: NewUser): LocalUser {
  const emailAddresses: EmailAddress[] = u.emails.map((emailAddress) => ({
    id: gen.id('idn'),
    emailAddress,
  }))
  const phoneNumbers: PhoneNumber[] = u.phones.map((phoneNumber) => ({
    id: gen.id('idn'),
    phoneNumber,
  }))
  return createUser(
    {
      id: u.id,
      externalId: u.externalId,
      username: u.username,
      firstName: u.firstName,
      lastName: u.lastName,
      imageUrl: avatarUrl(baseUrl, u.id, u.hasImage),
      emailAddresses,
      primaryEmailAddressId: emailAddresses[0]?.id ?? null,
      phoneNumbers,
      primaryPhoneNumberId: phoneNumbers[0]?.id ?? null,
      passwordDigest: u.passwordDigest,
      banned: u.banned ?? false,
      locked: u.locked ?? false,
      publicMetadata: u.publicMetadata,
      privateMetadata: u.privateMetadata,
      unsafeMetadata: {},
      createdAt: u.createdAt,
    },
    { updatedAt: u.updatedAt, lastSignInAt: u.lastSignInAt, lastActiveAt: u.lastActiveAt },
  )
}

/** Every how many customers one is signed in at seed time. */
export const SIGNED_IN_EVERY = 8

/**
 * Some customers are signed in right now: every 8th has an active ordinary session on a client of
 * its own, created within the last three days (sessions live seven) and active since, and their
 * `last_sign_in_at` / `last_active_at` agree with it. A separate generator keeps the users of a
 * seed the same as without sessions.
 */
function seedSessions(
  state: ClerkState,
  customers: LocalUser[],
  seed: number,
  now: number,
): number {
  const gen = new Generator((seed ^ 0x5e5510) >>> 0)
  let count = 0
  for (let i = 2; i < customers.length; i += SIGNED_IN_EVERY) {
    const user = customers[i]!
    const createdAt = Math.max(user.createdAt, now - 60_000 - gen.int(3 * DAY))
    const lastActiveAt = createdAt + gen.int(Math.max(1, now - createdAt))
    const client: Client = {
      id: gen.id('client'),
      sessionIds: [],
      lastActiveSessionId: null,
      signInId: null,
      createdAt,
      updatedAt: lastActiveAt,
    }
    const session: Session = {
      id: gen.id('sess'),
      clientId: client.id,
      userId: user.id,
      status: 'active',
      actor: null,
      lastActiveOrganizationId: state.defaultOrganizationId(user.id),
      expireAt: createdAt + SESSION_LIFETIME_MS,
      abandonAt: createdAt + SESSION_LIFETIME_MS,
      lastActiveAt,
      firstFactorVerifiedAt: createdAt,
      createdAt,
      updatedAt: lastActiveAt,
    }
    client.sessionIds.push(session.id)
    client.lastActiveSessionId = session.id
    state.clients.set(client.id, client)
    state.sessions.set(session.id, session)
    if ((user.lastSignInAt ?? 0) < createdAt) user.lastSignInAt = createdAt
    if ((user.lastActiveAt ?? 0) < lastActiveAt) user.lastActiveAt = lastActiveAt
    count++
  }
  return count
}

/** Seeds `state` with the Support organization, staff, the banned and locked accounts, and customers. */
export function seedState(state: ClerkState, options: SeedOptions = {}): SeedResult {
  const customers = options.users ?? 5000
  if (!Number.isInteger(customers) || customers < 0)
    throw new RangeError('users must be a non-negative integer')
  const seed = options.seed ?? 1
  if (!Number.isInteger(seed)) throw new RangeError('seed must be an integer')
  const baseUrl = (options.baseUrl ?? 'http://127.0.0.1').replace(/\/+$/, '')
  const gen = new Generator(seed)
  const now = state.now()
  const dayFloor = (t: number) => t - (t % DAY)
  const seededCustomers: LocalUser[] = []

  const supportOrganization = state.addOrganization({
    id: gen.id('org'),
    name: 'Support',
    slug: SUPPORT_ORG_SLUG,
    roles: {
      admin: [IMPERSONATE_PERMISSION],
      member: [],
      approver: [IMPERSONATE_PERMISSION, APPROVE_ACCESS_PERMISSION],
    },
    createdAt: now - 3 * YEAR,
    updatedAt: now - 3 * YEAR,
  })
  const customerOrganization = state.addOrganization({
    id: gen.id('org'),
    name: 'Globex Corporation',
    slug: 'globex',
    roles: { admin: [], member: [] },
    createdAt: now - 2 * YEAR,
    updatedAt: now - 2 * YEAR,
  })

  const special = (
    role: SeededAccount['role'],
    firstName: string,
    lastName: string,
    email: string,
    extra: Partial<NewUser> = {},
  ): { user: LocalUser; account: SeededAccount } => {
    const createdAt = now - (2 * YEAR + gen.int(YEAR))
    const user = buildUser(gen, baseUrl, {
      id: gen.id('user'),
      firstName,
      lastName,
      emails: [email],
      phones: [],
      username: null,
      externalId: null,
      hasImage: true,
      createdAt,
      updatedAt: createdAt,
      lastSignInAt: dayFloor(now - 2 * DAY),
      lastActiveAt: dayFloor(now - DAY),
      publicMetadata: {},
      privateMetadata: {},
      passwordDigest: passwordDigest(SEEDED_PASSWORDS[role]),
      ...extra,
    })
    state.addUser(user)
    const account: SeededAccount = {
      role,
      kind: role === 'banned' || role === 'locked' ? 'customer' : 'staff',
      identifier: email,
      password: SEEDED_PASSWORDS[role],
      userId: user.id,
    }
    state.accounts.push(account)
    return { user, account }
  }

  const admin = special('admin', 'Ada', 'Lovelace', 'ada@support.actas.test', { username: 'ada' })
  const agent = special('agent', 'Sam', 'Rivera', 'sam@support.actas.test', { username: 'sam' })
  for (const [member, role] of [
    [admin.user, 'admin'],
    [agent.user, 'member'],
  ] as const) {
    state.addMembership({
      id: gen.id('orgmem'),
      organizationId: supportOrganization.id,
      userId: member.id,
      role,
      createdAt: supportOrganization.createdAt,
      updatedAt: supportOrganization.createdAt,
    })
  }
  const banned = special('banned', 'Mallory', 'Banks', 'mallory.banks@example.com', {
    banned: true,
    phones: ['+15550100666'],
    publicMetadata: { plan: 'free' },
  })
  const locked = special('locked', 'Larry', 'Lockwood', 'larry.lockwood@example.com', {
    locked: true,
    phones: ['+15550100777'],
    publicMetadata: { plan: 'pro' },
  })

  const usedEmails = new Set<string>()
  const usedUsernames = new Set<string>(['ada', 'sam'])
  const usedPhones = new Set<string>(['+15550100666', '+15550100777'])
  for (const a of [admin, agent, banned, locked]) usedEmails.add(a.account.identifier)

  const uniqueEmail = (local: string, domain: string) => {
    let candidate = `${local}@${domain}`
    while (usedEmails.has(candidate)) candidate = `${local}${gen.int(10_000)}@${domain}`
    usedEmails.add(candidate)
    return candidate
  }

  for (let i = 0; i < customers; i++) {
    const firstName = gen.pick(FIRST_NAMES)
    const lastName = gen.pick(LAST_NAMES)
    const first = asciiSlug(firstName)
    const last = asciiSlug(lastName)
    const style = gen.int(6)
    const local =
      style === 0
        ? `${first}.${last}`
        : style === 1
          ? `${first}${last}`
          : style === 2
            ? `${first[0]}${last}`
            : style === 3
              ? `${first}_${last}${gen.int(100)}`
              : style === 4
                ? `${first}.${last}${1950 + gen.int(56)}`
                : `${last}.${first}`
    const emails = [uniqueEmail(local, gen.pick(EMAIL_DOMAINS))]
    if (gen.chance(0.1)) emails.push(uniqueEmail(`${first}.${last}.work`, gen.pick(EMAIL_DOMAINS)))

    const phones: string[] = []
    if (gen.chance(0.75)) {
      let phone: string
      do {
        const plan = gen.pick(PHONE_PLANS)
        phone = `+${plan.code}${gen.pick(plan.lead.split(''))}${gen.digits(plan.digits - 1)}`
      } while (usedPhones.has(phone))
      usedPhones.add(phone)
      phones.push(phone)
    }

    let username: string | null = null
    if (gen.chance(0.4)) {
      let candidate = `${first}${last.slice(0, 1)}${gen.int(1000)}`
      while (usedUsernames.has(candidate))
        candidate = `${first}${last.slice(0, 3)}${gen.int(100_000)}`
      usedUsernames.add(candidate)
      username = candidate
    }
    const externalId = gen.chance(0.3) ? `crm_${String(100_000 + i)}` : null

    // More recent sign-ups are more common: skew the age towards the present.
    const age = Math.floor(Math.pow(gen.next(), 1.6) * 6 * YEAR) + 60_000
    const createdAt = now - age
    const updatedAt = createdAt + Math.floor(gen.next() * age)
    const signedIn = gen.chance(0.88)
    const lastSignInAt = signedIn ? createdAt + Math.floor(gen.next() * age) : null
    const lastActiveAt =
      lastSignInAt === null
        ? null
        : dayFloor(Math.min(now, lastSignInAt + Math.floor(gen.next() * (now - lastSignInAt))))

    const user = buildUser(gen, baseUrl, {
      id: gen.id('user'),
      firstName,
      lastName,
      emails,
      phones,
      username,
      externalId,
      hasImage: gen.chance(0.6),
      createdAt,
      updatedAt,
      lastSignInAt,
      lastActiveAt,
      publicMetadata: { plan: gen.pick(PLANS) },
      privateMetadata: {},
      passwordDigest: null,
    })
    state.addUser(user)
    seededCustomers.push(user)
    if (i % 40 === 7) {
      state.addMembership({
        id: gen.id('orgmem'),
        organizationId: customerOrganization.id,
        userId: user.id,
        role: i % 400 === 7 ? 'admin' : 'member',
        createdAt: Math.max(createdAt, customerOrganization.createdAt),
        updatedAt: Math.max(createdAt, customerOrganization.createdAt),
      })
    }
  }

  // A second staff member who may impersonate (two-staff flows: a colleague ends your
  // impersonation). Seeded after the customers, so they are the same as before she existed.
  const colleague = special('colleague', 'Grace', 'Hopper', 'grace@support.actas.test', {
    username: usedUsernames.has('grace') ? null : 'grace',
  })
  state.addMembership({
    id: gen.id('orgmem'),
    organizationId: supportOrganization.id,
    userId: colleague.user.id,
    role: 'admin',
    createdAt: supportOrganization.createdAt,
    updatedAt: supportOrganization.createdAt,
  })

  // A staff member who also decides other staff members' access requests (the two-person rule).
  const approver = special('approver', 'Katherine', 'Johnson', 'katherine@support.actas.test', {
    username: usedUsernames.has('katherine') ? null : 'katherine',
  })
  state.addMembership({
    id: gen.id('orgmem'),
    organizationId: supportOrganization.id,
    userId: approver.user.id,
    role: 'approver',
    createdAt: supportOrganization.createdAt,
    updatedAt: supportOrganization.createdAt,
  })

  const sessions = seedSessions(state, seededCustomers, seed, now)
  state.userIndex.prepare()
  return { accounts: state.accounts.slice(), sessions, supportOrganization, customerOrganization }
}

/** A seeded account as tools print it: staff apart from customers, with what each may do. */
export interface AccountSummary {
  role: SeededAccount['role']
  /** `staff`: a member of Support; `customer`: the banned and locked demo customers. */
  kind: SeededAccount['kind']
  identifier: string
  password: string
  name: string
  /** The account's permissions in the Support organization (e.g. `org:admin:impersonate`). */
  permissions: string[]
}

/**
 * The seeded accounts with their kind and current Support permissions (read from the state, so a
 * role changed at run time shows). The CLI prints these in its table and its JSON line (`accounts`).
 */
export function accountSummaries(state: ClerkState): AccountSummary[] {
  const support = [...state.organizations.values()].find((o) => o.slug === SUPPORT_ORG_SLUG)
  const staffFirst = [...state.accounts].sort(
    (a, b) => Number(a.kind === 'customer') - Number(b.kind === 'customer'),
  )
  return staffFirst.map((a) => {
    const user = state.users.get(a.userId)
    return {
      role: a.role,
      kind: a.kind,
      identifier: a.identifier,
      password: a.password,
      name: [user?.firstName, user?.lastName].filter(Boolean).join(' '),
      permissions: support ? state.permissionsIn(a.userId, support.id) : [],
    }
  })
}
