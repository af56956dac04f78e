# LVIS v0.5 instance segmentation with uniform image sampling; see lvis_v1_instance.py. Layout (as mmdet's):
#   data/lvis_v0.5/annotations/lvis_v0.5_{train,val}.json, data/lvis_v0.5/{train2017,val2017}/
#   python tools/data/class_stats.py data/lvis_v0.5/annotations/lvis_v0.5_train.json \
#       -o data/lvis_v0.5/annotations/lvis_v0.5_train_class_stats.json
_base_ = './lvis_v1_instance.py'
dataset_type = 'LVISV05Dataset'
data_root = 'data/lvis_v0.5/'
num_classes = 1230
class_stats = data_root + 'annotations/lvis_v0.5_train_class_stats.json'
lvis_train_dataset = dict(type=dataset_type, data_root=data_root, ann_file='annotations/lvis_v0.5_train.json',
                          data_prefix=dict(img='train2017/'))
train_dataloader = dict(dataset=lvis_train_dataset)
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root, ann_file='annotations/lvis_v0.5_val.json',
                                   data_prefix=dict(img='val2017/')))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/lvis_v0.5_val.json')
test_evaluator = val_evaluator
