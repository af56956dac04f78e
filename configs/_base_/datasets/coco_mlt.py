# COCO-MLT (Wu et al., Distribution-Balanced loss, ECCV 2020; not the detection "COCO-LT"): 1,909 long-tailed images
# of COCO2017 train, 80 classes (22 head >= 100 training images, 33 medium 20-99, 25 tail < 20), tested on all 5,000
# images of COCO2017 val (48 have no annotation: every class a negative). Labels as the official code: crowd
# annotations count, boxes with area <= 0 or a side < 1 pixel do not. Build the lists with:
#   python tools/data/make_multilabel_lt.py coco --data-root data/coco [--img-ids <published img_id list>]
# Layout: data/coco/{train2017,val2017,annotations}, lists in data/coco/longtail2017/. Transforms as VOC-LT.
_base_ = ['./voc_lt.py']
dataset_type = 'COCOMLTDataset'
data_root = 'data/coco/'
num_classes = 80
class_stats = data_root + 'longtail2017/class_stats.json'
data_preprocessor = dict(num_classes=num_classes)
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root, ann_file='longtail2017/train.txt'))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root, ann_file='longtail2017/test.txt'))
test_dataloader = val_dataloader
val_evaluator = dict(type='MultiLabelShotMAP', class_stats=class_stats)
test_evaluator = val_evaluator
