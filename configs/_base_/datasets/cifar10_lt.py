# CIFAR-10-LT, the protocol of Cao et al. (LDAM-DRW, NeurIPS 2019): class i keeps
# n_i = int(5000 * (1 / IF) ** (i / 9)) training images (class 0 is the head), chosen by seed 0 with one shuffle per
# class; the test set is the balanced CIFAR-10 test set (10,000). IF 100 gives 12,406 images, 5,000 ... 50 per class.
# CIFARLTDataset builds it at load from the python archive:
#   data/cifar10/cifar-10-batches-py/{data_batch_1..5,test_batch,batches.meta}
#   (https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz)
# Transforms, loaders and evaluator are ./cifar100_lt.py's. For another imbalance factor, change `imbalance_factor` here
# (class_stats follows) or in a copy of this file.
_base_ = './cifar100_lt.py'
data_root = 'data/cifar10/'
num_classes = 10
imbalance_factor = 100
# The training counts, computed with the dataset's formula (the dataset checks it draws exactly these at load).
train_counts = [int(5000 * (1.0 / imbalance_factor) ** (i / (num_classes - 1.0))) for i in range(num_classes)]
class_stats = dict(num_images=sum(train_counts), image_count=train_counts, instance_count=train_counts)
data_preprocessor = dict(num_classes=num_classes)
train_dataloader = dict(dataset=dict(data_root=data_root, num_classes=num_classes, imbalance_factor=imbalance_factor,
                                     expected_counts=train_counts))
val_dataloader = dict(dataset=dict(data_root=data_root, num_classes=num_classes))
test_dataloader = val_dataloader
val_evaluator = dict(class_stats=class_stats)
test_evaluator = val_evaluator
