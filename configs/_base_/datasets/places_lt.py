# Places-LT (Liu et al., OLTR, CVPR 2019): 365 classes, 62,500 train images (4,980 ... 5 per class), val 7,300
# (20 per class), test 36,500 (100 per class, from the Places365 val set). Split files Places_LT_{train,val,test}.txt
# from the OLTR / classifier-balancing repositories, lines "<path relative to the Places365 root> <label>". Layout:
#   data/places365/{train,val}/...                 Places365-Standard images (the layout the split files name)
#   data/places365/Places_LT/Places_LT_{train,val,test}.txt
# The literature fine-tunes an ImageNet-pretrained ResNet-152 (OLTR, classifier-balancing) on it. Normalisation,
# transforms and loaders are ./imagenet_lt.py's (classifier-balancing uses the same for both).
_base_ = './imagenet_lt.py'
dataset_type = 'PlacesLTDataset'
data_root = 'data/places365/'
num_classes = 365
class_stats = 'data/places365/Places_LT/Places_LT_train.txt'
data_preprocessor = dict(num_classes=num_classes)
train_dataloader = dict(
    batch_size=32,  # x 8 GPUs = 256, as classifier-balancing's Places-LT configs
    dataset=dict(type=dataset_type, data_root=data_root, ann_file='Places_LT/Places_LT_train.txt'))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root, ann_file='Places_LT/Places_LT_val.txt'))
test_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root, ann_file='Places_LT/Places_LT_test.txt'))
val_evaluator = dict(class_stats=class_stats)
test_evaluator = val_evaluator
