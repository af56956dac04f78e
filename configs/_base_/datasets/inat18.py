# iNaturalist 2018 (visipedia/inat_comp): 8,142 species, 437,513 train and 24,426 val images (3 per class); the
# long-tail literature tests on val. COCO-style annotations train2018.json / val2018.json; labels are the category
# ids (0..8141), i.e. the categories sorted by id, as ltmm.class_stats counts them. Layout:
#   data/inat2018/train_val2018/<kingdom>/<id>/<image>.jpg
#   data/inat2018/{train2018,val2018}.json
# ./imagenet_lt.py's transforms and loaders with classifier-balancing's iNat normalisation (mean 0.466/0.471/0.380,
# std 0.195/0.194/0.192) and no ColorJitter.
_base_ = './imagenet_lt.py'
dataset_type = 'INat2018Dataset'
data_root = 'data/inat2018/'
num_classes = 8142
class_stats = 'data/inat2018/train2018.json'
data_preprocessor = dict(num_classes=num_classes, mean=[118.83, 120.105, 96.9], std=[49.725, 49.47, 48.96])

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, ann_file='train2018.json', pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root, ann_file='val2018.json', split='val'))
test_dataloader = val_dataloader  # no test split: the literature tests on val
val_evaluator = dict(class_stats=class_stats)
test_evaluator = val_evaluator
