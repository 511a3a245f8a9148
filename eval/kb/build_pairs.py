#!/usr/bin/env python3
"""Writes eval/kb/pairs.csv from published lists only (no knowledge-base rows read).

Usage: python3 eval/kb/build_pairs.py eval/kb/pairs.csv
"""
import csv, sys, io

ONC = ("Phansalkar S, Desai AA, Bell D, et al. High-priority drug-drug interactions for use in electronic "
       "health records. J Am Med Inform Assoc. 2012;19(5):735-743. doi:10.1136/amiajnl-2011-000612, Table 2")
BEERS = ("2023 American Geriatrics Society Beers Criteria Update Expert Panel. American Geriatrics Society 2023 "
         "updated AGS Beers Criteria for potentially inappropriate medication use in older adults. J Am Geriatr Soc. "
         "2023;71(7):2052-2081. doi:10.1111/jgs.18372, Table 5")
def label(*drugs, section="section 7 Drug Interactions"):
    return "; ".join(f"FDA prescribing information for {d}, {section}" for d in drugs)

rows = []
seen = {}
def add(a, b, expected, group, source, note="", age=""):
    key = frozenset((a.lower(), b.lower()))
    if a.lower() == b.lower():
        sys.exit(f"same drug twice: {a}")
    if key in seen:
        sys.exit(f"duplicate pair {a} / {b} (first in {seen[key]}, again in {group} {note})")
    seen[key] = f"{group} {note}"
    rows.append(dict(a=a, b=b, expected=expected, group=group, source=source, note=note, age=age))

# ---------------------------------------------------------------- 1. ONC high-priority list, Table 2
MAOI = ["tranylcypromine", "phenelzine", "isocarboxazid", "procarbazine", "selegiline"]
PI10 = ["ritonavir", "nelfinavir", "atazanavir", "indinavir", "saquinavir", "amprenavir", "darunavir",
        "lopinavir", "tipranavir", "fosamprenavir"]
PI9 = ["indinavir", "saquinavir", "tipranavir", "ritonavir", "nelfinavir", "atazanavir", "amprenavir",
       "darunavir", "lopinavir"]
onc_rows = [
    (3, "amphetamine derivatives x MAO inhibitors",
     ["dexmethylphenidate", "dextroamphetamine", "methylphenidate", "lisdexamfetamine", "methamphetamine",
      "phendimetrazine", "pseudoephedrine", "amphetamine", "benzphetamine", "diethylpropion", "phentermine",
      "atomoxetine"], MAOI),
    (4, "atazanavir x proton pump inhibitors (dexlansoprazole: panel's suggested addition)", ["atazanavir"],
     ["omeprazole", "lansoprazole", "pantoprazole", "rabeprazole", "esomeprazole", "dexlansoprazole"]),
    (6, "febuxostat x azathioprine/mercaptopurine", ["febuxostat"], ["azathioprine", "mercaptopurine"]),
    (8, "SSRIs and serotonergic agents x MAO inhibitors",
     ["fluoxetine", "paroxetine", "citalopram", "escitalopram", "sertraline", "fluvoxamine", "duloxetine",
      "nefazodone", "desvenlafaxine", "milnacipran", "venlafaxine"], MAOI),
    (11, "irinotecan x CYP3A4 inhibitors", ["irinotecan"],
     PI10 + ["clarithromycin", "erythromycin", "telithromycin", "amiodarone", "verapamil", "ketoconazole",
             "itraconazole", "fluconazole", "voriconazole", "nefazodone", "aprepitant", "cimetidine"]),
    (16, "narcotic analgesics x MAO inhibitors",
     ["meperidine", "methadone", "tapentadol", "fentanyl", "tramadol", "dextromethorphan"], MAOI),
    (20, "tricyclic antidepressants x MAO inhibitors (row names the class only; well-known TCAs used)",
     ["amitriptyline", "nortriptyline", "imipramine", "clomipramine", "doxepin", "desipramine"], MAOI),
    (22, "ramelteon x CYP1A2 inhibitors", ["ramelteon"], ["fluvoxamine", "amiodarone", "ticlopidine", "ciprofloxacin"]),
    (23, "strong CYP3A4 inducers x protease inhibitors",
     ["bosentan", "rifapentine", "carbamazepine", "rifabutin", "rifampin", "St John's wort"], PI10),
    (25, "simvastatin/lovastatin x CYP3A4 inhibitors", ["simvastatin", "lovastatin"],
     PI9 + ["clarithromycin", "erythromycin", "telithromycin", "amiodarone", "verapamil", "diltiazem",
            "ketoconazole", "itraconazole", "fluconazole", "voriconazole", "nefazodone"]),
    (27, "CYP3A4 inhibitors x ergot alkaloids",
     PI9 + ["clarithromycin", "erythromycin", "telithromycin", "ketoconazole", "itraconazole", "voriconazole"],
     ["ergotamine", "methylergonovine", "dihydroergotamine", "ergonovine"]),
    (28, "tizanidine x CYP1A2 inhibitors", ["tizanidine"],
     ["ciprofloxacin", "fluvoxamine", "mexiletine", "propafenone", "zileuton", "amiodarone", "ticlopidine"]),
    (30, "tranylcypromine x procarbazine", ["tranylcypromine"], ["procarbazine"]),
    (31, "triptans x MAO inhibitors",
     ["sumatriptan", "zolmitriptan", "rizatriptan"],
     ["tranylcypromine", "phenelzine", "isocarboxazid", "moclobemide", "methylene blue"]),
]

def balanced(objects, precipitants, n):
    """First n pairs of a deterministic order that spreads members evenly: repeatedly take the pair whose
    object and precipitant have been used least so far (ties: table order of the object, then precipitant)."""
    left = [(i, j) for i in range(len(objects)) for j in range(len(precipitants))]
    uo = [0] * len(objects); up = [0] * len(precipitants); out = []
    while len(out) < n:
        best = min(left, key=lambda ij: (max(uo[ij[0]], up[ij[1]]), uo[ij[0]] + up[ij[1]], ij[0], ij[1]))
        left.remove(best); out.append(best); uo[best[0]] += 1; up[best[1]] += 1
    return sorted(out)

TARGET = 290
sizes = {r[0]: len(r[2]) * len(r[3]) for r in onc_rows}
total = sum(sizes.values())
small = sum(s for s in sizes.values() if s <= 15)
big = total - small
f = (TARGET - small) / big
quota = {k: (s if s <= 15 else max(15, round(s * f))) for k, s in sizes.items()}
for num, desc, objs, precs in onc_rows:
    for i, j in balanced(objs, precs, quota[num]):
        add(objs[i], precs[j], "interacts", "onc-high-priority", ONC,
            f"Table 2 row #{num}: {desc} ({quota[num]} of {sizes[num]} pairs)")
onc_total = sum(quota.values())

# ---------------------------------------------------------------- 2. Beers 2023 Table 5
def beers(a, b, row):
    add(a, b, "interacts", "beers-2023-ddi", BEERS, row, age="75")
R1 = "Table 5: RAS inhibitor (ACEI/ARB/ARNI/aliskiren) or potassium-sparing diuretic (amiloride/triamterene) x another; hyperkalemia (avoid in CKD stage 3a or higher)"
for a, b in [("enalapril", "valsartan"), ("ramipril", "telmisartan"), ("benazepril", "olmesartan"),
             ("lisinopril", "aliskiren"), ("losartan", "aliskiren"), ("lisinopril", "amiloride"),
             ("enalapril", "triamterene"), ("losartan", "triamterene"), ("valsartan", "amiloride"),
             ("sacubitril/valsartan", "ramipril")]:
    beers(a, b, R1)
R2 = "Table 5: opioids x benzodiazepines; overdose risk (avoid)"
for a, b in [("oxycodone", "alprazolam"), ("hydrocodone", "lorazepam"), ("morphine", "diazepam"),
             ("tramadol", "clonazepam"), ("methadone", "alprazolam"), ("hydromorphone", "lorazepam"),
             ("codeine", "temazepam"), ("fentanyl", "midazolam"), ("buprenorphine", "diazepam")]:
    beers(a, b, R2)
R3 = "Table 5: opioids x gabapentin/pregabalin; severe sedation, respiratory depression (avoid)"
for a, b in [("oxycodone", "gabapentin"), ("morphine", "pregabalin"), ("hydrocodone", "pregabalin"),
             ("tramadol", "gabapentin"), ("methadone", "gabapentin"), ("hydromorphone", "pregabalin")]:
    beers(a, b, R3)
R4 = "Table 5: anticholinergic x anticholinergic (members from Table 7, strong anticholinergic drugs); cognitive decline, delirium, falls (avoid)"
for a, b in [("oxybutynin", "diphenhydramine"), ("tolterodine", "amitriptyline"), ("benztropine", "diphenhydramine"),
             ("hydroxyzine", "oxybutynin"), ("paroxetine", "oxybutynin"), ("cyclobenzaprine", "diphenhydramine")]:
    beers(a, b, R4)
R6 = "Table 5: lithium x ACEIs/ARBs/ARNIs; lithium toxicity (avoid, monitor lithium)"
for b in ["lisinopril", "enalapril", "ramipril", "losartan", "valsartan", "candesartan"]:
    beers("lithium", b, R6)
R7 = "Table 5: lithium x loop diuretics; lithium toxicity (avoid, monitor lithium)"
for b in ["furosemide", "bumetanide", "torsemide"]:
    beers("lithium", b, R7)
R8 = "Table 5: non-selective peripheral alpha-1 blockers x loop diuretics; urinary incontinence in older women"
for a, b in [("doxazosin", "furosemide"), ("prazosin", "furosemide"), ("terazosin", "bumetanide"), ("doxazosin", "torsemide")]:
    beers(a, b, R8)
beers("phenytoin", "trimethoprim-sulfamethoxazole", "Table 5: phenytoin x trimethoprim-sulfamethoxazole; phenytoin toxicity (avoid)")
beers("theophylline", "cimetidine", "Table 5: theophylline x cimetidine; theophylline toxicity (avoid)")
beers("theophylline", "ciprofloxacin", "Table 5: theophylline x ciprofloxacin; theophylline toxicity (avoid)")
R12 = "Table 5: warfarin x amiodarone, ciprofloxacin, macrolides (excluding azithromycin), trimethoprim-sulfamethoxazole, SSRIs; bleeding"
for b in ["amiodarone", "ciprofloxacin", "clarithromycin", "erythromycin", "trimethoprim-sulfamethoxazole",
          "sertraline", "fluoxetine", "citalopram", "escitalopram", "paroxetine"]:
    beers("warfarin", b, R12)

# ---------------------------------------------------------------- 3. FDA labels, other well-known interactions
def lab(a, b, src, note):
    add(a, b, "interacts", "label-other", src, note)
for a, b, src, note in [
    ("warfarin", "fluconazole", label("Coumadin (warfarin)", "Diflucan (fluconazole)"), "CYP2C9 inhibition; increased INR and bleeding"),
    ("colchicine", "clarithromycin", label("Colcrys (colchicine)", "Biaxin (clarithromycin)"), "strong CYP3A4/P-gp inhibitor; fatal colchicine toxicity; dose reduction or contraindicated in renal/hepatic impairment"),
    ("methotrexate", "trimethoprim", label("methotrexate tablets"), "trimethoprim/sulfamethoxazole increases bone-marrow suppression"),
    ("sildenafil", "isosorbide mononitrate", label("Viagra (sildenafil)", section="section 4 Contraindications and section 7"), "nitrates contraindicated; severe hypotension"),
    ("sildenafil", "nitroglycerin", label("Viagra (sildenafil)", section="section 4 Contraindications and section 7"), "nitrates contraindicated; severe hypotension"),
    ("tadalafil", "isosorbide mononitrate", label("Cialis (tadalafil)", section="section 4 Contraindications and section 7"), "nitrates contraindicated; severe hypotension"),
    ("sildenafil", "doxazosin", label("Viagra (sildenafil)"), "alpha-blockers: symptomatic hypotension"),
    ("sildenafil", "ritonavir", label("Viagra (sildenafil)"), "ritonavir greatly increases sildenafil; not recommended / dose limit"),
    ("lithium", "ibuprofen", label("lithium carbonate"), "NSAIDs raise lithium concentrations"),
    ("lithium", "naproxen", label("lithium carbonate"), "NSAIDs raise lithium concentrations"),
    ("lithium", "hydrochlorothiazide", label("lithium carbonate"), "diuretics reduce lithium clearance"),
    ("clopidogrel", "omeprazole", label("Plavix (clopidogrel)"), "CYP2C19 inhibition reduces active metabolite; avoid"),
    ("clopidogrel", "esomeprazole", label("Plavix (clopidogrel)"), "CYP2C19 inhibition reduces active metabolite; avoid"),
    ("spironolactone", "trimethoprim", label("Aldactone (spironolactone)", "Bactrim (sulfamethoxazole/trimethoprim)", section="sections 5 and 7"), "hyperkalemia with drugs that raise potassium"),
    ("spironolactone", "potassium chloride", label("Aldactone (spironolactone)"), "potassium supplements: severe hyperkalemia"),
    ("lisinopril", "spironolactone", label("Zestril (lisinopril)", "Aldactone (spironolactone)"), "hyperkalemia"),
    ("lisinopril", "potassium chloride", label("Zestril (lisinopril)"), "potassium supplements: hyperkalemia"),
    ("lisinopril", "ibuprofen", label("Zestril (lisinopril)"), "NSAIDs: renal deterioration, reduced antihypertensive effect"),
    ("lisinopril", "losartan", label("Zestril (lisinopril)", "Cozaar (losartan)") + "; ONTARGET Investigators. N Engl J Med. 2008;358(15):1547-1559. doi:10.1056/NEJMoa0801317", "dual RAS blockade: hypotension, hyperkalemia, renal failure"),
    ("ibuprofen", "naproxen", label("Motrin (ibuprofen)", "Naprosyn (naproxen)"), "two NSAIDs: not recommended (GI bleeding); duplicate therapy"),
    ("diclofenac", "celecoxib", label("Voltaren (diclofenac)", "Celebrex (celecoxib)"), "two NSAIDs: not recommended; duplicate therapy"),
    ("aspirin", "ibuprofen", label("Motrin (ibuprofen)"), "ibuprofen interferes with aspirin's antiplatelet effect; GI bleeding"),
    ("sertraline", "fluoxetine", label("Zoloft (sertraline)", "Prozac (fluoxetine)"), "two SSRIs: serotonin syndrome, bleeding; duplicate therapy"),
    ("escitalopram", "paroxetine", label("Lexapro (escitalopram)", "Paxil (paroxetine)"), "two SSRIs: serotonin syndrome; duplicate therapy"),
    ("lorazepam", "alprazolam", label("Ativan (lorazepam)", "Xanax (alprazolam)"), "two benzodiazepines: additive CNS depression; duplicate therapy"),
    ("diazepam", "clonazepam", label("Valium (diazepam)", "Klonopin (clonazepam)"), "two benzodiazepines: additive CNS depression; duplicate therapy"),
    ("apixaban", "warfarin", label("Eliquis (apixaban)"), "two anticoagulants: bleeding; avoid concomitant use"),
    ("rivaroxaban", "enoxaparin", label("Xarelto (rivaroxaban)"), "other anticoagulants: bleeding; avoid"),
    ("apixaban", "aspirin", label("Eliquis (apixaban)"), "antiplatelet agents increase bleeding risk"),
    ("apixaban", "itraconazole", label("Eliquis (apixaban)"), "combined P-gp and strong CYP3A4 inhibitor: reduce dose or avoid"),
    ("rivaroxaban", "ritonavir", label("Xarelto (rivaroxaban)"), "combined P-gp and strong CYP3A inhibitor: avoid"),
    ("rivaroxaban", "rifampin", label("Xarelto (rivaroxaban)"), "combined P-gp and strong CYP3A inducer: avoid"),
    ("warfarin", "metronidazole", label("Coumadin (warfarin)", "Flagyl (metronidazole)"), "potentiates warfarin; increased INR"),
    ("warfarin", "aspirin", label("Coumadin (warfarin)"), "antiplatelet agents: bleeding"),
    ("warfarin", "ibuprofen", label("Coumadin (warfarin)"), "NSAIDs: bleeding"),
    ("digoxin", "amiodarone", label("Lanoxin (digoxin)"), "increases digoxin concentration; reduce digoxin dose"),
    ("digoxin", "verapamil", label("Lanoxin (digoxin)"), "increases digoxin concentration; bradycardia"),
    ("digoxin", "clarithromycin", label("Lanoxin (digoxin)"), "P-gp inhibition increases digoxin"),
    ("methotrexate", "ibuprofen", label("methotrexate tablets"), "NSAIDs: increased methotrexate toxicity"),
    ("methotrexate", "omeprazole", label("methotrexate tablets", "Prilosec (omeprazole)"), "PPIs may elevate methotrexate levels"),
    ("allopurinol", "azathioprine", label("Zyloprim (allopurinol)", "Imuran (azathioprine)"), "xanthine oxidase inhibition: reduce azathioprine to one third to one quarter"),
    ("allopurinol", "mercaptopurine", label("Zyloprim (allopurinol)", "Purixan (mercaptopurine)"), "xanthine oxidase inhibition: reduce mercaptopurine dose"),
    ("linezolid", "sertraline", label("Zyvox (linezolid)"), "MAO inhibition: serotonin syndrome"),
    ("methylene blue", "sertraline", label("ProvayBlue (methylene blue)", section="section 4 Contraindications and section 5 Warnings"), "serotonin syndrome with serotonergic drugs"),
    ("tramadol", "sertraline", label("Ultram (tramadol)"), "serotonergic drugs: serotonin syndrome"),
    ("oxycodone", "clarithromycin", label("OxyContin (oxycodone)", section="Boxed Warning and section 7"), "CYP3A4 inhibitors: fatal respiratory depression"),
    ("fentanyl", "ritonavir", label("Duragesic (fentanyl)", section="Boxed Warning and section 7"), "CYP3A4 inhibitors: fatal respiratory depression"),
    ("dofetilide", "verapamil", label("Tikosyn (dofetilide)", section="section 4 Contraindications"), "contraindicated: raises dofetilide; torsade de pointes"),
    ("dofetilide", "hydrochlorothiazide", label("Tikosyn (dofetilide)", section="section 4 Contraindications"), "contraindicated: raises dofetilide, hypokalemia; torsade de pointes"),
    ("omeprazole", "citalopram", label("Prilosec (omeprazole)", "Celexa (citalopram)"), "CYP2C19 inhibition raises citalopram; QT; citalopram max 20 mg"),
    ("carbamazepine", "clarithromycin", label("Tegretol (carbamazepine)"), "CYP3A4 inhibitors raise carbamazepine"),
    ("rifampin", "ethinyl estradiol", label("Rifadin (rifampin)"), "induction: reduced contraceptive efficacy"),
    ("phenytoin", "fluconazole", label("Dilantin (phenytoin)", "Diflucan (fluconazole)"), "raises phenytoin concentrations"),
    ("lamotrigine", "valproic acid", label("Lamictal (lamotrigine)", section="sections 2 and 7"), "valproate doubles lamotrigine; rash; dose adjustment"),
    ("valproic acid", "meropenem", label("Depakote (divalproex sodium)"), "carbapenems lower valproate to subtherapeutic levels"),
    ("simvastatin", "cyclosporine", label("Zocor (simvastatin)", section="section 4 Contraindications and section 7"), "contraindicated: myopathy/rhabdomyolysis"),
    ("simvastatin", "gemfibrozil", label("Zocor (simvastatin)", section="section 4 Contraindications and section 7"), "contraindicated: myopathy/rhabdomyolysis"),
    ("rosuvastatin", "cyclosporine", label("Crestor (rosuvastatin)"), "raises rosuvastatin; limit dose to 5 mg"),
    ("atorvastatin", "clarithromycin", label("Lipitor (atorvastatin)"), "CYP3A4 inhibition: limit atorvastatin to 20 mg"),
    ("repaglinide", "gemfibrozil", label("Prandin (repaglinide)", section="section 4 Contraindications and section 7"), "contraindicated: raises repaglinide, hypoglycemia"),
    ("colchicine", "verapamil", label("Colcrys (colchicine)"), "moderate CYP3A4/P-gp inhibitor: colchicine dose reduction"),
    ("duloxetine", "fluvoxamine", label("Cymbalta (duloxetine)"), "potent CYP1A2 inhibitors: avoid"),
    ("clozapine", "fluvoxamine", label("Clozaril (clozapine)"), "strong CYP1A2 inhibitor: reduce clozapine to one third"),
    ("tamsulosin", "ketoconazole", label("Flomax (tamsulosin)"), "strong CYP3A4 inhibitor: should not be used together"),
    ("ticagrelor", "clarithromycin", label("Brilinta (ticagrelor)"), "strong CYP3A inhibitor: avoid"),
    ("metformin", "topiramate", label("Glucophage (metformin)"), "carbonic anhydrase inhibitor: lactic acidosis risk"),
    ("levothyroxine", "calcium carbonate", label("Synthroid (levothyroxine)"), "reduced levothyroxine absorption; separate doses"),
    ("levothyroxine", "ferrous sulfate", label("Synthroid (levothyroxine)"), "reduced levothyroxine absorption; separate doses"),
    ("ciprofloxacin", "calcium carbonate", label("Cipro (ciprofloxacin)"), "multivalent cations reduce ciprofloxacin absorption"),
    ("alendronate", "calcium carbonate", label("Fosamax (alendronate)"), "calcium supplements interfere with absorption; separate doses"),
    ("verapamil", "metoprolol", label("Calan (verapamil)"), "beta-blockers: bradycardia, AV block, heart failure"),
]:
    lab(a, b, src, note)

# ---------------------------------------------------------------- 4a. fixed-dose combination products (expected none)
def combo(a, b, product):
    add(a, b, "none", "combination-product", label(product, section="section 1 Indications and Usage (approved fixed-dose combination)"),
        f"co-formulated in {product}")
for a, b, product in [
    ("amlodipine", "atorvastatin", "Caduet (amlodipine/atorvastatin)"),
    ("amlodipine", "benazepril", "Lotrel (amlodipine/benazepril)"),
    ("amlodipine", "valsartan", "Exforge (amlodipine/valsartan)"),
    ("amlodipine", "olmesartan", "Azor (amlodipine/olmesartan medoxomil)"),
    ("amlodipine", "telmisartan", "Twynsta (telmisartan/amlodipine)"),
    ("amlodipine", "perindopril", "Prestalia (perindopril arginine/amlodipine)"),
    ("amlodipine", "hydrochlorothiazide", "Exforge HCT (amlodipine/valsartan/hydrochlorothiazide)"),
    ("valsartan", "hydrochlorothiazide", "Diovan HCT (valsartan/hydrochlorothiazide)"),
    ("losartan", "hydrochlorothiazide", "Hyzaar (losartan/hydrochlorothiazide)"),
    ("olmesartan", "hydrochlorothiazide", "Benicar HCT (olmesartan medoxomil/hydrochlorothiazide)"),
    ("irbesartan", "hydrochlorothiazide", "Avalide (irbesartan/hydrochlorothiazide)"),
    ("telmisartan", "hydrochlorothiazide", "Micardis HCT (telmisartan/hydrochlorothiazide)"),
    ("candesartan", "hydrochlorothiazide", "Atacand HCT (candesartan cilexetil/hydrochlorothiazide)"),
    ("lisinopril", "hydrochlorothiazide", "Zestoretic (lisinopril/hydrochlorothiazide)"),
    ("enalapril", "hydrochlorothiazide", "Vaseretic (enalapril maleate/hydrochlorothiazide)"),
    ("benazepril", "hydrochlorothiazide", "Lotensin HCT (benazepril/hydrochlorothiazide)"),
    ("quinapril", "hydrochlorothiazide", "Accuretic (quinapril/hydrochlorothiazide)"),
    ("fosinopril", "hydrochlorothiazide", "fosinopril sodium and hydrochlorothiazide tablets"),
    ("bisoprolol", "hydrochlorothiazide", "Ziac (bisoprolol fumarate/hydrochlorothiazide)"),
    ("metoprolol", "hydrochlorothiazide", "Lopressor HCT (metoprolol tartrate/hydrochlorothiazide)"),
    ("atenolol", "chlorthalidone", "Tenoretic (atenolol/chlorthalidone)"),
    ("azilsartan", "chlorthalidone", "Edarbyclor (azilsartan medoxomil/chlorthalidone)"),
    ("clonidine", "chlorthalidone", "Clorpres (clonidine/chlorthalidone)"),
    ("aliskiren", "hydrochlorothiazide", "Tekturna HCT (aliskiren/hydrochlorothiazide)"),
    ("trandolapril", "verapamil", "Tarka (trandolapril/verapamil ER)"),
    ("nebivolol", "valsartan", "Byvalson (nebivolol/valsartan)"),
    ("sacubitril", "valsartan", "Entresto (sacubitril/valsartan)"),
    ("isosorbide dinitrate", "hydralazine", "BiDil (isosorbide dinitrate/hydralazine)"),
    ("ezetimibe", "simvastatin", "Vytorin (ezetimibe/simvastatin)"),
    ("ezetimibe", "atorvastatin", "ezetimibe and atorvastatin tablets (Liptruzet)"),
    ("ezetimibe", "rosuvastatin", "Roszet (ezetimibe/rosuvastatin)"),
    ("bempedoic acid", "ezetimibe", "Nexlizet (bempedoic acid/ezetimibe)"),
    ("aspirin", "omeprazole", "Yosprala (aspirin/omeprazole)"),
    ("sitagliptin", "metformin", "Janumet (sitagliptin/metformin)"),
    ("saxagliptin", "metformin", "Kombiglyze XR (saxagliptin/metformin ER)"),
    ("linagliptin", "metformin", "Jentadueto (linagliptin/metformin)"),
    ("alogliptin", "metformin", "Kazano (alogliptin/metformin)"),
    ("alogliptin", "pioglitazone", "Oseni (alogliptin/pioglitazone)"),
    ("empagliflozin", "metformin", "Synjardy (empagliflozin/metformin)"),
    ("dapagliflozin", "metformin", "Xigduo XR (dapagliflozin/metformin ER)"),
    ("canagliflozin", "metformin", "Invokamet (canagliflozin/metformin)"),
    ("ertugliflozin", "metformin", "Segluromet (ertugliflozin/metformin)"),
    ("empagliflozin", "linagliptin", "Glyxambi (empagliflozin/linagliptin)"),
    ("dapagliflozin", "saxagliptin", "Qtern (dapagliflozin/saxagliptin)"),
    ("ertugliflozin", "sitagliptin", "Steglujan (ertugliflozin/sitagliptin)"),
    ("pioglitazone", "metformin", "Actoplus Met (pioglitazone/metformin)"),
    ("budesonide", "formoterol", "Symbicort (budesonide/formoterol)"),
    ("fluticasone propionate", "salmeterol", "Advair Diskus (fluticasone propionate/salmeterol)"),
    ("fluticasone furoate", "vilanterol", "Breo Ellipta (fluticasone furoate/vilanterol)"),
    ("mometasone", "formoterol", "Dulera (mometasone furoate/formoterol)"),
    ("umeclidinium", "vilanterol", "Anoro Ellipta (umeclidinium/vilanterol)"),
    ("tiotropium", "olodaterol", "Stiolto Respimat (tiotropium/olodaterol)"),
    ("glycopyrrolate", "formoterol", "Bevespi Aerosphere (glycopyrrolate/formoterol)"),
    ("aclidinium", "formoterol", "Duaklir Pressair (aclidinium/formoterol)"),
    ("fluticasone furoate", "umeclidinium", "Trelegy Ellipta (fluticasone furoate/umeclidinium/vilanterol)"),
    ("budesonide", "glycopyrrolate", "Breztri Aerosphere (budesonide/glycopyrrolate/formoterol)"),
    ("albuterol", "ipratropium", "Combivent Respimat (ipratropium/albuterol)"),
    ("albuterol", "budesonide", "Airsupra (albuterol/budesonide)"),
    ("azelastine", "fluticasone propionate", "Dymista (azelastine/fluticasone propionate)"),
    ("olopatadine", "mometasone", "Ryaltris (olopatadine/mometasone furoate)"),
    ("fexofenadine", "pseudoephedrine", "Allegra-D (fexofenadine/pseudoephedrine)"),
    ("loratadine", "pseudoephedrine", "Claritin-D (loratadine/pseudoephedrine)"),
    ("cetirizine", "pseudoephedrine", "Zyrtec-D (cetirizine/pseudoephedrine)"),
    ("desloratadine", "pseudoephedrine", "Clarinex-D (desloratadine/pseudoephedrine)"),
    ("guaifenesin", "dextromethorphan", "Mucinex DM (guaifenesin/dextromethorphan)"),
    ("guaifenesin", "pseudoephedrine", "Mucinex D (guaifenesin/pseudoephedrine)"),
    ("oxycodone", "acetaminophen", "Percocet (oxycodone/acetaminophen)"),
    ("hydrocodone", "acetaminophen", "Norco (hydrocodone bitartrate/acetaminophen)"),
    ("tramadol", "acetaminophen", "Ultracet (tramadol/acetaminophen)"),
    ("codeine", "acetaminophen", "Tylenol with Codeine (acetaminophen/codeine)"),
    ("hydrocodone", "ibuprofen", "hydrocodone bitartrate and ibuprofen tablets (Vicoprofen)"),
    ("sumatriptan", "naproxen", "Treximet (sumatriptan/naproxen sodium)"),
    ("naproxen", "esomeprazole", "Vimovo (naproxen/esomeprazole)"),
    ("ibuprofen", "famotidine", "Duexis (ibuprofen/famotidine)"),
    ("diclofenac", "misoprostol", "Arthrotec (diclofenac sodium/misoprostol)"),
    ("dutasteride", "tamsulosin", "Jalyn (dutasteride/tamsulosin)"),
    ("carbidopa", "levodopa", "Sinemet (carbidopa/levodopa)"),
    ("donepezil", "memantine", "Namzaric (memantine ER/donepezil)"),
    ("naltrexone", "bupropion", "Contrave (naltrexone/bupropion ER)"),
    ("doxylamine", "pyridoxine", "Diclegis (doxylamine succinate/pyridoxine)"),
    ("ethinyl estradiol", "levonorgestrel", "Seasonique (levonorgestrel/ethinyl estradiol)"),
    ("ethinyl estradiol", "norethindrone", "Loestrin (norethindrone acetate/ethinyl estradiol)"),
    ("ethinyl estradiol", "drospirenone", "Yaz (drospirenone/ethinyl estradiol)"),
    ("ethinyl estradiol", "norgestimate", "Ortho Tri-Cyclen (norgestimate/ethinyl estradiol)"),
    ("ethinyl estradiol", "desogestrel", "Desogen (desogestrel/ethinyl estradiol)"),
    ("conjugated estrogens", "medroxyprogesterone", "Prempro (conjugated estrogens/medroxyprogesterone acetate)"),
    ("estradiol", "norethindrone", "Activella (estradiol/norethindrone acetate)"),
    ("estradiol", "progesterone", "Bijuva (estradiol/progesterone)"),
    ("alendronate", "cholecalciferol", "Fosamax Plus D (alendronate/cholecalciferol)"),
    ("dolutegravir", "lamivudine", "Dovato (dolutegravir/lamivudine)"),
    ("dolutegravir", "abacavir", "Triumeq (abacavir/dolutegravir/lamivudine)"),
    ("dolutegravir", "rilpivirine", "Juluca (dolutegravir/rilpivirine)"),
    ("bictegravir", "emtricitabine", "Biktarvy (bictegravir/emtricitabine/tenofovir alafenamide)"),
    ("bictegravir", "tenofovir alafenamide", "Biktarvy (bictegravir/emtricitabine/tenofovir alafenamide)"),
    ("efavirenz", "emtricitabine", "Atripla (efavirenz/emtricitabine/tenofovir disoproxil fumarate)"),
    ("efavirenz", "tenofovir disoproxil", "Atripla (efavirenz/emtricitabine/tenofovir disoproxil fumarate)"),
    ("rilpivirine", "emtricitabine", "Complera (emtricitabine/rilpivirine/tenofovir disoproxil fumarate)"),
    ("rilpivirine", "tenofovir alafenamide", "Odefsey (emtricitabine/rilpivirine/tenofovir alafenamide)"),
    ("doravirine", "lamivudine", "Delstrigo (doravirine/lamivudine/tenofovir disoproxil fumarate)"),
    ("doravirine", "tenofovir disoproxil", "Delstrigo (doravirine/lamivudine/tenofovir disoproxil fumarate)"),
    ("cabotegravir", "rilpivirine", "Cabenuva (cabotegravir/rilpivirine co-packaged)"),
    ("lansoprazole", "amoxicillin", "Prevpac (lansoprazole/amoxicillin/clarithromycin co-packaged)"),
    ("omeprazole", "amoxicillin", "Omeclamox-Pak (omeprazole/clarithromycin/amoxicillin co-packaged)"),
]:
    combo(a, b, product)

# ---------------------------------------------------------------- 4b. label says no interaction / guideline co-prescription
def none(a, b, src, note):
    add(a, b, "none", "label-no-interaction", src, note)
S = lambda drug: label(drug, section="sections 7 and 12.3 (drug interaction studies)")
for b in ["colchicine", "naproxen", "indomethacin", "hydrochlorothiazide", "desipramine"]:
    none("febuxostat", b, S("Uloric (febuxostat)"), f"label: no clinically significant interaction with {b}; may be used concomitantly")
for b in ["digoxin", "propranolol", "theophylline", "warfarin"]:
    none("finasteride", b, S("Proscar (finasteride)"), f"label: {b} tested in man, no clinically meaningful interaction")
for b in ["digoxin", "warfarin", "amlodipine"]:
    none("dutasteride", b, S("Avodart (dutasteride)"), f"label: no clinically significant interaction with {b}")
for b in ["theophylline", "prednisone", "digoxin", "warfarin", "ethinyl estradiol"]:
    none("montelukast", b, S("Singulair (montelukast)"), f"label: no clinically important effect on {b} pharmacokinetics")
for b in ["metoprolol", "nifedipine", "theophylline", "glyburide", "diclofenac", "levonorgestrel"]:
    none("pantoprazole", b, S("Protonix (pantoprazole)"), f"label: no clinically relevant interaction with {b}")
for b in ["digoxin", "warfarin", "cimetidine"]:
    none("losartan", b, S("Cozaar (losartan)"), f"label: no clinically significant interaction with {b}")
for b in ["digoxin", "cimetidine", "warfarin"]:
    none("valsartan", b, S("Diovan (valsartan)"), f"label: no clinically significant interaction with {b}")
for b in ["digoxin", "warfarin"]:
    none("olmesartan", b, S("Benicar (olmesartan medoxomil)"), f"label: no significant interaction with {b}")
none("candesartan", "warfarin", S("Atacand (candesartan cilexetil)"), "label: no significant interaction with warfarin (no effect on prothrombin time)")
for b in ["digoxin", "warfarin"]:
    none("amlodipine", b, S("Norvasc (amlodipine)"), f"label: co-administration did not change {b} levels/effect")
for b in ["simvastatin", "warfarin"]:
    none("sitagliptin", b, S("Januvia (sitagliptin)"), f"label: sitagliptin did not meaningfully alter {b} pharmacokinetics")
none("linagliptin", "digoxin", S("Tradjenta (linagliptin)"), "label: no clinically meaningful effect on digoxin")
for b in ["simvastatin", "digoxin", "warfarin"]:
    none("dapagliflozin", b, S("Farxiga (dapagliflozin)"), f"label: no meaningful effect on {b}; no dose adjustment")
none("empagliflozin", "digoxin", S("Jardiance (empagliflozin)"), "label: no clinically relevant effect on digoxin")
for b in ["digoxin", "glipizide", "cimetidine", "levonorgestrel"]:
    none("ezetimibe", b, S("Zetia (ezetimibe)"), f"label: no clinically significant pharmacokinetic interaction with {b}")
for b in ["digoxin", "warfarin", "ethinyl estradiol"]:
    none("levetiracetam", b, S("Keppra (levetiracetam)"), f"label: levetiracetam did not influence {b} pharmacokinetics")
for b in ["digoxin", "theophylline"]:
    none("tamsulosin", b, S("Flomax (tamsulosin)"), f"label: no change in {b} pharmacokinetics; no dose adjustment")

ADA = ("American Diabetes Association Professional Practice Committee. 10. Cardiovascular disease and risk management: "
       "Standards of Care in Diabetes-2024. Diabetes Care. 2024;47(Suppl 1):S179-S218. doi:10.2337/dc24-S010")
CCD = ("Virani SS, Newby LK, Arnold SV, et al. 2023 AHA/ACC/ACCP/ASPC/NLA/PCNA guideline for the management of patients "
       "with chronic coronary disease. Circulation. 2023;148(9):e9-e119. doi:10.1161/CIR.0000000000001168")
GINA = "Global Initiative for Asthma. Global Strategy for Asthma Management and Prevention, 2024 update (steps 2-5 controller combinations)"
ACR = ("FitzGerald JD, Dalbeth N, Mikuls T, et al. 2020 American College of Rheumatology guideline for the management of gout. "
       "Arthritis Care Res (Hoboken). 2020;72(6):744-760. doi:10.1002/acr.24180")
APAP = "FDA OTC Drug Facts label for acetaminophen (the only interacting drug named is warfarin)"
for s in ["atorvastatin", "rosuvastatin", "pravastatin"]:
    none(s, "metformin", f"{ADA}; {label(s, 'Glucophage (metformin)')}", "guideline co-prescription (statin in diabetes); neither label names the other")
for a, b in [("atorvastatin", "aspirin"), ("rosuvastatin", "aspirin"), ("atorvastatin", "metoprolol"),
             ("rosuvastatin", "metoprolol"), ("atorvastatin", "lisinopril"), ("rosuvastatin", "lisinopril"),
             ("pravastatin", "lisinopril"), ("rosuvastatin", "losartan")]:
    none(a, b, f"{CCD}; {label(a, b)}", "guideline co-prescription (chronic coronary disease); neither label names the other")
for a, b in [("montelukast", "fluticasone"), ("montelukast", "budesonide"), ("albuterol", "fluticasone"),
             ("albuterol", "montelukast"), ("tiotropium", "budesonide"), ("tiotropium", "fluticasone")]:
    none(a, b, f"{GINA}; {label(a, b)}", "guideline co-prescription (asthma); neither label names the other")
for b in ["atorvastatin", "amlodipine", "metformin", "omeprazole", "levothyroxine"]:
    none("acetaminophen", b, f"{APAP}; {label(b)}", "acetaminophen not named in the other label's interactions")
for b in ["atorvastatin", "rosuvastatin"]:
    none("pantoprazole", b, label("Protonix (pantoprazole)", b), "neither label names the other")
for b in ["atorvastatin", "lisinopril"]:
    none("levothyroxine", b, label("Synthroid (levothyroxine)", b), "neither label names the other")
for b in ["atorvastatin", "amlodipine"]:
    none("allopurinol", b, label("Zyloprim (allopurinol)", b), "neither label names the other")
none("colchicine", "allopurinol", f"{ACR}; {label('Colcrys (colchicine)', 'Zyloprim (allopurinol)')}",
     "guideline: colchicine flare prophylaxis when starting allopurinol; neither label names the other")

buf = io.StringIO()
w = csv.DictWriter(buf, fieldnames=["a", "b", "expected", "group", "source", "note", "age"], lineterminator="\n")
w.writeheader(); w.writerows(rows)
open(sys.argv[1], "w").write(buf.getvalue())
from collections import Counter
c = Counter((r["group"], r["expected"]) for r in rows)
for k, v in sorted(c.items()): print(k, v)
print("total", len(rows), "onc quota", quota, "f", round(f, 4))
